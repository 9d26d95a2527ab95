import { saveConnection } from '../../src/domain/chat/connections.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/durable.ts';

/** SaveConnection: binds the announced ws connection id to its participant. */
export const saveConnectionJob = durableJob<Contracts['chat.save-connection']>(async (trx, { payload }) => {
  const p = payload.payload;
  await saveConnection(trx, { connectionId: p.connection_id, entityUuid: p.entity_uuid, type: p.type });
});
