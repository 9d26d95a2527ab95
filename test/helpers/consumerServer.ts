import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';

export interface Received {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** What the next request gets: a status, or 'hang' (never answer), or 'drop' (destroy the socket). */
export type Behaviour = number | 'hang' | 'drop';

/**
 * A throwaway consumer service: answers from a script (e.g. [503, 503, 200]), then `after` forever.
 * Records every request it received with its arrival time.
 */
export class ConsumerServer {
  readonly received: Received[] = [];
  private server: Server | undefined;
  private readonly hung = new Set<ServerResponse>();
  url = '';
  /** The JSON body of 2xx answers (default {}); lets the server play a service that answers questions. */
  reply: (request: Received) => unknown = () => ({});
  /** Picks the behaviour per request (e.g. by path); undefined falls back to the script. */
  choose: (request: Received) => Behaviour | undefined = () => undefined;

  constructor(
    private script: Behaviour[] = [],
    private after: Behaviour = 200,
  ) {}

  setScript(script: Behaviour[], after: Behaviour = 200): void {
    this.script = [...script];
    this.after = after;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          /* keep {} */
        }
        const received: Received = { at: Date.now(), method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
        this.received.push(received);
        const next = this.choose(received) ?? (this.script.length > 0 ? this.script.shift()! : this.after);
        if (next === 'hang') {
          this.hung.add(res);
          return;
        }
        if (next === 'drop') {
          req.socket.destroy();
          return;
        }
        res.writeHead(next, { 'content-type': 'application/json' }).end(next >= 200 && next < 300 ? JSON.stringify(this.reply(received)) : '{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
