import type { Duplex } from 'node:stream';

// A burst of pub/sub messages is fanned out in one event-loop turn; frames held longer than this
// leave before the burst ends, so batching costs the first events of a burst at most this much.
// Each early release is a write per socket, so the bound sits above a normal turn's fanout: a
// tighter one cut busy turns up and raised bench:ws's p99.
const MAX_HOLD_MS = 8;

/**
 * Corks each socket on its first write of an event-loop turn and uncorks them all once the turn's
 * I/O is done (or MAX_HOLD_MS has passed), so the frames a socket gets from one burst of pub/sub
 * messages leave in one write (fewer, larger writes: see bench:ws and its ceilings).
 */
export class WriteBatch {
  private readonly held = new Set<Duplex>();
  private scheduled = false;
  private openedAt = 0;

  hold(socket: Duplex): void {
    if (this.held.has(socket)) return;
    socket.cork();
    if (this.held.size === 0) this.openedAt = performance.now();
    this.held.add(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.release);
    }
  }

  /** Called between events of a burst: lets the held frames go once they have waited long enough. */
  releaseIfOld(): void {
    if (this.held.size > 0 && performance.now() - this.openedAt >= MAX_HOLD_MS) this.flush();
  }

  readonly release = (): void => {
    this.scheduled = false;
    this.flush();
  };

  private flush(): void {
    for (const socket of this.held) socket.uncork();
    this.held.clear();
  }
}
