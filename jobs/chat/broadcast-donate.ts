import { broadcastDonation } from '../../src/domain/chat/transferDonation.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { roomJob } from './roomJob.ts';

/** SendDonateToQueue: the room sees the completed donation (with its message, if any). */
export const broadcastDonateJob = roomJob<Contracts['chat.broadcast-donate']>((trx, { payload, outboxId }) => broadcastDonation(trx, payload, outboxId ?? null));
