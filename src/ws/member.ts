import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { WriteBatch } from './writeBatch.ts';
import { CLOSE, type OutgoingEvent } from './protocol.ts';

export type DropReason = 'slow_consumer' | 'dead_peer' | 'frame_too_large' | 'protocol_error' | 'ping_flood' | 'shutdown';

export interface MemberHooks {
  /** A frame of this type was written (events written by the fan-out are counted there, in bulk). */
  sent(type: string): void;
  dropped(reason: DropReason): void;
}

export interface MemberLimits {
  maxBufferedBytes: number;
  closeGraceMs: number;
  /** Pings a socket may send per minute (protocol ping frames and {"type":"ping"} alike). */
  pingsPerMinute: number;
}

const MINUTE = 60_000;
// How long a socket that replayed keeps skipping live repeats of the ids its replay covered: longer
// than a publish is repeated late (a stalled job's redelivery, the outbox reconciler's re-relay).
const KNOWN_FOR_MS = 5 * MINUTE;

/**
 * One socket in one room. It starts `syncing` (registered in the room before the upgrade
 * completes, so no live event can slip past it), buffering live events while the welcome and any
 * replay are written; `goLive` drains that buffer and from then on events are written at once.
 */
export class Member {
  readonly connectionId = randomUUID();
  /** Set when the process hears a pong or any frame; cleared at each heartbeat. */
  alive = true;
  private ws: WebSocket | undefined;
  private socket: Duplex | undefined;
  private state: 'syncing' | 'live' | 'closed' = 'syncing';
  private pending: OutgoingEvent[] = [];
  private pendingBytes = 0;
  private known: ReadonlySet<string> | null = null;
  private knownUntil = 0;
  private pingWindowStart = 0;
  private pingsInWindow = 0;
  /** A close decided before the upgrade completed (the sync buffer overflowed), applied on attach. */
  private closeOnAttach: { code: number; text: string } | undefined;

  constructor(
    readonly sub: string,
    readonly role: string,
    readonly room: string,
    private readonly limits: MemberLimits,
    private readonly batch: WriteBatch,
    private readonly hooks: MemberHooks,
  ) {}

  get isLive(): boolean {
    return this.state === 'live';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Bytes waiting in this socket's userland buffers (or in its sync buffer while syncing). */
  get bufferedBytes(): number {
    return (this.ws?.bufferedAmount ?? 0) + this.pendingBytes;
  }

  get isAttached(): boolean {
    return this.ws !== undefined;
  }

  attach(ws: WebSocket, socket: Duplex): void {
    this.ws = ws;
    this.socket = socket;
    if (this.closeOnAttach) this.close(this.closeOnAttach.code, this.closeOnAttach.text);
  }

  /** Writes an event now (live), keeps it for goLive (syncing), or drops it (closed). True when written. */
  deliver(out: OutgoingEvent): boolean {
    if (this.state === 'live') return this.isKnown(out) ? false : this.write(out.frame);
    if (this.state === 'syncing') {
      this.pending.push(out);
      this.pendingBytes += out.frame.length;
      if (this.pendingBytes > this.limits.maxBufferedBytes) this.drop('slow_consumer', CLOSE.tryAgainLater, 'slow consumer');
    }
    return false;
  }

  /** Writes a control frame (welcome, pong, refetch) through ws, and counts it; the buffer cap holds for these too. */
  send(text: string, type: string): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.hasRoomFor(text.length)) return false;
    ws.send(text);
    this.hooks.sent(type);
    return true;
  }

  /** Writes a replayed event now, whatever the state (the replay runs before goLive), and counts it. */
  sendEvent(out: OutgoingEvent): boolean {
    const written = this.write(out.frame);
    if (written) this.hooks.sent(out.event.type);
    return written;
  }

  /**
   * Drains what arrived while syncing and goes live. `known` holds the ids the replay covered (the
   * history it read): the subscriber connection may deliver some of them after the history read
   * answered, and a redelivered job publishes them again later, so they are skipped for
   * KNOWN_FOR_MS. (Skipping only until the first new live event let a late repeat through twice:
   * npm run chaos, network.) Repeats of events fanned out here are the room's to drop (rooms.ts).
   */
  goLive(known: ReadonlySet<string> | null): void {
    if (this.state !== 'syncing') return;
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.state = 'live';
    this.known = known;
    this.knownUntil = Date.now() + KNOWN_FOR_MS;
    for (const out of pending) {
      if (!this.isKnown(out) && this.write(out.frame)) this.hooks.sent(out.event.type);
    }
  }

  private isKnown(out: OutgoingEvent): boolean {
    if (!this.known) return false;
    if (Date.now() > this.knownUntil) {
      this.known = null;
      return false;
    }
    return this.known.has(out.event.event_id);
  }

  /**
   * Counts a ping from the peer (a ping frame or {"type":"ping"}): every one is answered, so an
   * unlimited stream of them makes the server write without end. Past the limit: close 1008.
   */
  pinged(now = Date.now()): boolean {
    if (this.state === 'closed') return false;
    if (now - this.pingWindowStart >= MINUTE) {
      this.pingWindowStart = now;
      this.pingsInWindow = 0;
    }
    if (++this.pingsInWindow <= this.limits.pingsPerMinute) return true;
    this.drop('ping_flood', CLOSE.policyViolation, 'too many pings');
    return false;
  }

  /** Answers a ping frame with its payload, within the buffer cap (ws's own auto-pong ignores it). */
  pong(data: Buffer): void {
    const ws = this.ws;
    if (ws?.readyState === WebSocket.OPEN && this.hasRoomFor(data.length + 2)) ws.pong(data);
  }

  /** Whether `bytes` more fit under the buffer cap; a socket that is full is dropped (1013). */
  private hasRoomFor(bytes: number): boolean {
    if ((this.ws?.bufferedAmount ?? 0) + bytes <= this.limits.maxBufferedBytes) return true;
    this.drop('slow_consumer', CLOSE.tryAgainLater, 'slow consumer');
    return false;
  }

  ping(): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.ping();
  }

  /** Closes with a code, giving the peer closeGraceMs to read what is buffered and the close frame. */
  drop(reason: DropReason, code: number, text: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.pending = [];
    this.pendingBytes = 0;
    this.hooks.dropped(reason);
    this.close(code, text);
  }

  close(code: number, text: string): void {
    this.state = 'closed';
    const ws = this.ws;
    if (!ws) {
      this.closeOnAttach = { code, text };
      return;
    }
    if (ws.readyState === WebSocket.OPEN) ws.close(code, text);
    // Nothing more is written after close, so a peer that never reads holds at most its buffer until then.
    setTimeout(() => ws.terminate(), this.limits.closeGraceMs).unref();
  }

  terminate(reason: DropReason): void {
    if (this.state !== 'closed') this.hooks.dropped(reason);
    this.state = 'closed';
    this.ws?.terminate();
  }

  /**
   * Writes a complete, prebuilt frame straight to the socket. ws writes its own frames to the same
   * socket synchronously (no compression, no Blobs), so whole frames never interleave.
   */
  private write(frame: Buffer): boolean {
    const ws = this.ws;
    const socket = this.socket;
    if (!ws || !socket || ws.readyState !== WebSocket.OPEN) return false;
    // Includes what the socket holds: the frames written here and by ws alike.
    if (ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.drop('slow_consumer', CLOSE.tryAgainLater, 'slow consumer');
      return false;
    }
    this.batch.hold(socket);
    socket.write(frame);
    return true;
  }
}
