import { broadcastSponsor } from '../../src/domain/chat/sponsors.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { roomJob } from './roomJob.ts';

/** SendNewSponsorToQueue: the room sees its new sponsor. */
export const broadcastSponsorJob = roomJob<Contracts['chat.broadcast-sponsor']>((trx, { payload, outboxId }) => broadcastSponsor(trx, payload, outboxId ?? null));
