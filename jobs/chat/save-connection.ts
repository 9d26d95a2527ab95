import { saveConnections } from '../../src/domain/chat/connections.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchJob } from './batchJob.ts';

/** SaveConnection: binds announced ws connection ids to their participants. */
export const saveConnectionJob = batchJob(chatContracts['chat.save-connection'], (trx, batch) =>
  saveConnections(trx, batch.payloads.map(({ payload: p }) => ({ connectionId: p.connection_id, entityUuid: p.entity_uuid, type: p.type }))),
);
