import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { isLowercaseUuid } from '../platform/ids.ts';

export const WS_PATH = '/ws';
// Event ids are uuids today; anything printable and short is accepted and simply not found.
const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BEARER_PROTOCOL = 'bearer.';

/** A handshake refused before the upgrade: answered as plain HTTP on the raw socket. */
export class HandshakeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface HandshakeRequest {
  room: string;
  token: string;
  since: string | undefined;
  /** The `bearer.<JWT>` subprotocol to echo back when the token came that way. */
  protocol: string | undefined;
}

/** The `bearer.<JWT>` entry of a Sec-WebSocket-Protocol list, if any. */
export function bearerProtocol(header: string | undefined): string | undefined {
  return header?.split(',').map((p) => p.trim()).find((p) => p.startsWith(BEARER_PROTOCOL) && p.length > BEARER_PROTOCOL.length);
}

/** Reads path, Origin, room, since and the token of an upgrade request; throws HandshakeError. */
export function readHandshake(req: IncomingMessage, allowedOrigins: readonly string[]): HandshakeRequest {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== WS_PATH) throw new HandshakeError(404, 'not_found', `no WebSocket endpoint at ${url.pathname}`);
  const origin = req.headers.origin;
  // Browsers always send Origin; the allowlist stops other sites' pages from using a visitor's token.
  if (allowedOrigins.length > 0 && origin !== undefined && !allowedOrigins.includes(origin)) {
    throw new HandshakeError(403, 'origin_not_allowed', `origin ${origin} is not allowed`);
  }
  const room = url.searchParams.get('room');
  if (!room) throw new HandshakeError(400, 'bad_params', 'room is required');
  // The room id is part of Redis keys and channel names: one spelling per room.
  if (!isLowercaseUuid(room)) throw new HandshakeError(400, 'bad_params', 'room must be a lowercase uuid');
  const since = url.searchParams.get('since') ?? undefined;
  if (since !== undefined && !EVENT_ID.test(since)) throw new HandshakeError(400, 'bad_params', 'since must be an event id');

  const protocol = bearerProtocol(req.headers['sec-websocket-protocol']);
  const token = url.searchParams.get('token') || protocol?.slice(BEARER_PROTOCOL.length);
  if (!token) throw new HandshakeError(401, 'unauthorized', 'missing token (?token= or Sec-WebSocket-Protocol: bearer.<JWT>)');
  // A copy: the parsed value is a slice that keeps the whole URL (token included) alive with the socket.
  return { room: Buffer.from(room, 'latin1').toString('latin1'), token, since, protocol: url.searchParams.get('token') ? undefined : protocol };
}

/** Answers a refused upgrade with a JSON error, as the HTTP API would, and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ success: false, code, message });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(status === 503 ? ['Retry-After: 1'] : []),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
