import type { RawData } from 'ws';
import { toWire, type ChatEvent, type ChatEventType } from '../domain/chat/chatEvent.ts';

/** Close codes the server uses (RFC 6455, section 7.4.1 and the IANA registry). */
export const CLOSE = {
  goingAway: 1001,
  protocolError: 1002,
  policyViolation: 1008,
  tooLarge: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

/**
 * An event framed once per fan-out: `frame` holds the complete WebSocket frame, header included,
 * and server frames are unmasked, so the very same bytes go to every socket that may see it.
 */
export interface OutgoingEvent {
  event: ChatEvent;
  frame: Buffer;
}

export function outgoing(event: ChatEvent): OutgoingEvent {
  return { event, frame: textFrame(Buffer.from(JSON.stringify(toWire(event)))) };
}

/** A final, unmasked text frame (RFC 6455, section 5.2): FIN + opcode 1, then the payload length in 7, 16 or 64 bits. */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = 0x81;
  if (n < 126) frame[1] = n;
  else if (n < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(frame, head);
  return frame;
}

export const welcomeFrame = (connectionId: string): string => JSON.stringify({ type: 'welcome', connection_id: connectionId });
export const PONG_FRAME = '{"type":"pong"}';
/** History no longer reaches back to `since` (or live events were lost): reload GET /chat/event/history. */
export const REFETCH_FRAME = '{"type":"refetch"}';

const EVENT_TYPES: ReadonlySet<string> = new Set<ChatEventType>(['message', 'donate', 'change_sponsor', 'goal_reached', 'goal_progress', 'donation_rejected']);

/** A ChatEvent from its JSON (pub/sub message or history entry), or null when it is not one. */
export function parseChatEvent(raw: string): ChatEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const e = value as Record<string, unknown>;
  const audienceOk = e.audience === null || (Array.isArray(e.audience) && e.audience.every((a) => typeof a === 'string'));
  if (
    typeof e.type !== 'string' || !EVENT_TYPES.has(e.type) ||
    typeof e.event_id !== 'string' || typeof e.room !== 'string' || typeof e.at !== 'string' ||
    typeof e.data !== 'object' || e.data === null || !audienceOk
  ) {
    return null;
  }
  return value as ChatEvent;
}

/** Clients may only ping; anything else they send is ignored. */
export function isPing(data: RawData, isBinary: boolean): boolean {
  if (isBinary) return false;
  const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
  // Anything longer than a ping with generous whitespace is not worth parsing.
  if (text.length > 64) return false;
  try {
    const frame = JSON.parse(text) as unknown;
    return typeof frame === 'object' && frame !== null && (frame as { type?: unknown }).type === 'ping';
  } catch {
    return false;
  }
}
