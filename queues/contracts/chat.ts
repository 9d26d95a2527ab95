import { envelopeSchema, type EventDef } from '../outbox/envelope.ts';
import { AddNewConnection, AddNewDonate, AddNewMessage, EndGoal, NewSponsor, ReceiveMoney, chatEvents } from '../../src/domain/chat/events.ts';
import { defineJob } from '../contract.ts';
import type { TSchema } from '@sinclair/typebox';

/**
 * The chat module's listener jobs (seed 002), one queue each, all fed from the outbox. Every one is
 * durable: its outbox row is the source of truth, locked and marked done with the effect, so money,
 * goals, sponsors and history entries happen exactly once and survive a Redis wipe.
 *
 * Concurrency is low on purpose: each job takes its queue's waiting rows along
 * (queues/outbox/processors.ts, batchedJob), so throughput comes from batch size, and two batches
 * of one queue mostly lock the same rooms' rows (wallets, goals, sponsor state) and would only queue
 * behind each other holding pool connections. The donation path runs one batch per queue per
 * worker process, so its batches grow instead (less CPU per donation); more worker processes run
 * more batches at once.
 */
function listener<S extends TSchema>(queue: string, event: EventDef<S>, description: string, concurrency: number) {
  return defineJob({
    queue,
    description,
    schema: envelopeSchema(event),
    version: event.version,
    attempts: 25,
    backoff: { delayMs: 200, maxDelayMs: 60_000, jitter: 0.2 },
    concurrency,
    durable: true,
    batched: true,
    keepCompleted: 200,
  });
}

export const chatContracts = {
  'chat.save-connection': listener('chat.save-connection', AddNewConnection, 'SaveConnection: bind a ws connection id to its participant', 1),
  'chat.save-message': listener('chat.save-message', AddNewMessage, 'SaveMessage: store a message, add it to the history and tell the room', 2),
  'chat.save-donate': listener('chat.save-donate', AddNewDonate, "SaveDonate: store a donation's attached message", 2),
  'chat.transfer-money': listener('chat.transfer-money', AddNewDonate, 'TransferMoney: move the donation once, or reject it for lack of funds', 1),
  'chat.update-goal': listener('chat.update-goal', ReceiveMoney, "UpdateGoal: add the transfer to the room's goals; EndGoal on crossing", 1),
  'chat.calculate-sponsor': listener('chat.calculate-sponsor', ReceiveMoney, 'CalculateNewSponsor: update donor totals; NewSponsor when overtaken', 1),
  // Retired: TransferMoney records the `donate` event now; this drains rows written before it did.
  'chat.broadcast-donate': listener('chat.broadcast-donate', ReceiveMoney, 'SendDonateToQueue (retired): drains ReceiveMoney rows written before TransferMoney told the room itself', 1),
  'chat.broadcast-goal': listener('chat.broadcast-goal', EndGoal, 'SendEndGoalToQueue: tell the room a goal was reached', 1),
  'chat.save-sponsor': listener('chat.save-sponsor', NewSponsor, 'SaveNewSponsor: keep the sponsor history', 1),
  'chat.broadcast-sponsor': listener('chat.broadcast-sponsor', NewSponsor, 'SendNewSponsorToQueue: tell the room its new sponsor', 1),
};

// Every listener an event names must be a chat queue, and each queue must listen to its event.
for (const event of chatEvents) {
  for (const queue of event.listeners) {
    if (!(queue in chatContracts)) throw new Error(`chat event ${event.name} names listener ${queue}, which has no contract`);
  }
}
