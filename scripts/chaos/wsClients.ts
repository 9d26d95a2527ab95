/**
 * Live viewers: a few WebSocket clients per room that reconnect with `since` (the last event they
 * saw) whenever the socket drops, and remember every event they got.
 */
import WebSocket from 'ws';
import type { Actor } from './traffic.ts';

export class Viewer {
  readonly received: string[] = [];
  lastEventId: string | undefined;
  reconnects = 0;
  refetches = 0;
  /** chat_events.id when the viewer joined: it must get every visible event after it. */
  baseline = 0;
  private socket: WebSocket | undefined;
  private closed = false;
  connectedOnce: Promise<void>;
  private resolveConnected!: () => void;

  constructor(
    readonly who: Actor,
    readonly room: string,
    private readonly url: () => string,
  ) {
    this.connectedOnce = new Promise((resolve) => (this.resolveConnected = resolve));
  }

  connect(): void {
    if (this.closed) return;
    const since = this.lastEventId ? `&since=${encodeURIComponent(this.lastEventId)}` : '';
    const socket = new WebSocket(`${this.url()}/ws?room=${this.room}&token=${this.who.token}${since}`);
    this.socket = socket;
    socket.on('message', (raw: Buffer) => {
      const frame = JSON.parse(raw.toString()) as { type: string; event_id?: string };
      if (frame.type === 'welcome') return this.resolveConnected();
      // The server lost its Redis subscription for a while: catch up by reconnecting with since.
      if (frame.type === 'refetch') {
        this.refetches++;
        return socket.close();
      }
      if (!frame.event_id) return;
      this.received.push(frame.event_id);
      this.lastEventId = frame.event_id;
    });
    const again = () => {
      if (this.closed || this.socket !== socket) return;
      this.reconnects++;
      setTimeout(() => this.connect(), 300);
    };
    socket.on('close', again);
    socket.on('error', () => socket.terminate());
  }

  close(): void {
    this.closed = true;
    this.socket?.terminate();
  }
}
