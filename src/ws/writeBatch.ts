import type { Duplex } from 'node:stream';

// A burst of pub/sub messages is fanned out in one event-loop turn; frames held longer than this
// leave before the burst ends, so batching costs the first events of a burst at most this much.
// Each early release is a write per socket (6 ms for 750 sockets on 2 vCPU), so the bound is
// above a normal turn's fanout: at 2 ms, turns at 3,200 events/s were cut up and the median p99
// there rose from ~33 to ~39 ms (bench:ws, docs/BENCHMARKS.md).
const MAX_HOLD_MS = 8;

/**
 * Corks each socket on its first write of an event-loop turn and uncorks them all once the turn's
 * I/O is done (or MAX_HOLD_MS has passed), so the frames a socket gets from one burst of pub/sub
 * messages leave in one write (ws ceilings: corking 4 frames per write triples deliveries per second).
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
