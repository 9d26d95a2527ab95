import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real Redis that, on each connection, holds Redis's replies for `stallMs`
 * right after the first INFO reply (ioredis's ready check) went through: a Redis that lets a client
 * become ready and then answers nothing for a while, as a slow Redis at start does. Commands still
 * reach Redis at once; only their replies wait, in order.
 */
export class StallAfterReadyProxy {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
  ) {}

  static async start(redisPort: number, stallMs: number): Promise<StallAfterReadyProxy> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const redis = connect(redisPort, '127.0.0.1');
      for (const s of [client, redis]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          sockets.delete(s);
          client.destroy();
          redis.destroy();
        });
      }
      client.on('data', (chunk: Buffer) => redis.write(chunk));
      redis.on('data', replies(client, stallMs));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new StallAfterReadyProxy(server, sockets, (server.address() as AddressInfo).port);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Forwards Redis's bytes to the client, holding them for `stallMs` once the first INFO reply is through. */
function replies(client: Socket, stallMs: number): (chunk: Buffer) => void {
  let infoLeft: number | undefined; // bytes of the first INFO reply not yet forwarded
  let held: Buffer[] | undefined;
  let released = false;
  const startStall = (rest: Buffer) => {
    held = rest.length > 0 ? [rest] : [];
    setTimeout(() => {
      for (const b of held!) client.write(b);
      held = undefined;
      released = true;
    }, stallMs);
  };
  return (chunk) => {
    if (released) return void client.write(chunk);
    if (held) return void held.push(chunk);
    if (infoLeft === undefined) {
      // A bulk reply whose text starts with INFO's first section: `$<length>\r\n# Server`.
      const m = /\$(\d+)\r\n# Server/.exec(chunk.toString('latin1'));
      if (!m) return void client.write(chunk);
      infoLeft = m.index + m[0].length - '# Server'.length + Number(m[1]) + 2;
    }
    const through = Math.min(infoLeft, chunk.length);
    client.write(chunk.subarray(0, through));
    infoLeft -= through;
    if (infoLeft === 0) startStall(chunk.subarray(through));
  };
}
