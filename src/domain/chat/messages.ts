import type { Trx } from '../../platform/db.ts';
import { BadRequest } from '../../platform/errors.ts';
import type { Envelope } from '../../platform/outbox/envelope.ts';
import { publishEvent } from '../../platform/outbox/writer.ts';
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

/** SaveMessage: the message row and its room event, once per AddNewMessage (event_id is unique). */
export async function saveMessage(trx: Trx, envelope: Envelope<AddNewMessagePayload>, outboxId: string | null): Promise<ChatEvent[]> {
  const p = envelope.payload;
  const at = new Date(envelope.produced_at);
  const [result] = (await trx.raw(
    `INSERT INTO messages (event_id, room, sender_uuid, sender_type, is_public, value, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [envelope.event_id, p.room, p.sender_uuid, p.sender_type, p.is_public, p.message, at, at],
  )) as [{ insertId: number }];
  const event = chatEvent(
    'message',
    envelope.event_id,
    p.room,
    at,
    { message_id: result.insertId, sender: { uuid: p.sender_uuid, name: p.sender_name, type: p.sender_type }, message: p.message, is_public: p.is_public },
    privateAudience(p.is_public, p.sender_uuid, p.room),
  );
  await recordChatEvents(trx, [event], outboxId);
  return [event];
}
