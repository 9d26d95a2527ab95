import type { Duplex } from 'node:stream';

/**
 * Corks each socket on its first write of an event-loop turn and uncorks them all once the turn's
 * I/O is done, so the frames a socket gets from one burst of pub/sub messages leave in one write
 * (ws ceilings: corking 4 frames per write triples deliveries per second).
 */
export class WriteBatch {
  private readonly held = new Set<Duplex>();
  private scheduled = false;

  hold(socket: Duplex): void {
    if (this.held.has(socket)) return;
    socket.cork();
    this.held.add(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.release);
    }
  }

  readonly release = (): void => {
    this.scheduled = false;
    for (const socket of this.held) socket.uncork();
    this.held.clear();
  };
}
