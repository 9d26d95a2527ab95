import type { Trx } from '../../platform/db.ts';
import { BadRequest } from '../../platform/errors.ts';
import type { Envelope } from '../../../queues/outbox/envelope.ts';
import { publishEvent } from '../../../queues/outbox/writer.ts';
import { execute, placeholders, selectRows } from '../../platform/sql.ts';
import type { ChatEvent } from './chatEvent.ts';
import { chatEvent, recordChatEvents } from './chatEventLog.ts';
import { AddNewMessage, type AddNewMessagePayload } from './events.ts';
import type { Participant } from './participants.ts';

export interface PostMessageInput {
  sender: Participant;
  room: string;
  message: string;
  isPublic: boolean;
}

/** Length in characters (code points), so an emoji counts once. */
export function checkMessageText(text: string, maxLength: number): void {
  if (text.trim().length === 0) throw new BadRequest('message must not be empty', 'empty_message');
  if (text.length > maxLength && [...text].length > maxLength) {
    throw new BadRequest(`message is longer than ${maxLength} characters`, 'message_too_long', { max_length: maxLength });
  }
}

/** POST /chat/message/add: publishes AddNewMessage; SaveMessage stores it and tells the room. */
export async function postMessage(trx: Trx, input: PostMessageInput): Promise<{ event_id: string }> {
  const envelope = await publishEvent(trx, AddNewMessage, {
    room: input.room,
    sender_uuid: input.sender.uuid,
    sender_type: input.sender.type,
    sender_name: input.sender.name,
    message: input.message,
    is_public: input.isPublic,
  });
  return { event_id: envelope.event_id };
}

/** Who may see a private event: its sender and the room owner (the room id is the owner's uuid). */
export function privateAudience(isPublic: boolean, sender: string, room: string): string[] | null {
  return isPublic ? null : [sender, room];
}

/** SaveMessage: the message rows and their room events, once per AddNewMessage (event_id is unique). */
export async function saveMessages(trx: Trx, envelopes: readonly Envelope<AddNewMessagePayload>[], outboxId: string | null): Promise<ChatEvent[]> {
  if (envelopes.length === 0) return [];
  await execute(
    trx,
    `INSERT INTO messages (event_id, room, sender_uuid, sender_type, is_public, value, created_at, updated_at) VALUES ${envelopes.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    envelopes.flatMap(({ event_id, produced_at, payload: p }) => [event_id, p.room, p.sender_uuid, p.sender_type, p.is_public, p.message, new Date(produced_at), new Date(produced_at)]),
  );
  const ids = new Map(
    (await selectRows<{ id: number; event_id: string }>(trx, `SELECT id, event_id FROM messages WHERE event_id IN (${placeholders(envelopes.length)})`, envelopes.map((e) => e.event_id))).map((r) => [
      r.event_id,
      Number(r.id),
    ]),
  );
  const events = envelopes.map(({ event_id, produced_at, payload: p }) =>
    chatEvent(
      'message',
      event_id,
      p.room,
      produced_at,
      { message_id: ids.get(event_id), sender: { uuid: p.sender_uuid, name: p.sender_name, type: p.sender_type }, message: p.message, is_public: p.is_public },
      privateAudience(p.is_public, p.sender_uuid, p.room),
    ),
  );
  await recordChatEvents(trx, events, outboxId);
  return events;
}
