import { saveConnections } from '../../src/domain/chat/connections.ts';
import { chatContracts } from '../../queues/contracts/chat.ts';
import { batchedJob } from '../../queues/outbox/processors.ts';
import { carryingTopics } from '../events/carry.ts';

/** SaveConnection: binds announced ws connection ids to their participants. */
export const saveConnectionJob = batchedJob(chatContracts['chat.save-connection'], carryingTopics('chat.save-connection', (trx, batch) =>
  saveConnections(trx, batch.payloads.map(({ payload: p }) => ({ connectionId: p.connection_id, entityUuid: p.entity_uuid, type: p.type }))),
));
