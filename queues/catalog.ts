import type { EventDef } from '../src/platform/outbox/envelope.ts';
import type { QueueName } from './contracts/index.ts';
import { chatEvents } from '../src/domain/chat/events.ts';
import { bonusEvents } from '../src/domain/bonus/events.ts';
import { popugEvents } from '../src/domain/popug/events.ts';

/**
 * Every domain event and the listener jobs it fans out to (the seeds' listener maps).
 * Publishing an event in a transaction writes one outbox row per listener.
 * Modules add their events here; `checkCatalog` keeps each listener a real contract.
 */
export const eventCatalog: readonly EventDef[] = [...chatEvents, ...bonusEvents, ...popugEvents];

/** Compile-time guard: a listener name that is not a contract's queue fails to typecheck. */
export function listeners<const L extends readonly QueueName[]>(...names: L): L {
  return names;
}
