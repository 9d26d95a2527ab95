/** The local HTTP consumer of seen facts: /ok always accepts, /fail always answers 500. */
import { createServer, type Server } from 'node:http';

export class ConsumerLog {
  /** event_id → deliveries (a redelivery is allowed by the contract; the consumer dedupes by key). */
  readonly byEvent = new Map<string, number>();
  readonly failed = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let id = '';
        try {
          id = String((JSON.parse(Buffer.concat(chunks).toString()) as { event_id?: string }).event_id ?? '');
        } catch {
          /* counted under '' */
        }
        const into = req.url === '/ok' ? this.byEvent : this.failed;
        into.set(id, (into.get(id) ?? 0) + 1);
        res.writeHead(req.url === '/ok' ? 200 : 500, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  redeliveries(): number {
    let n = 0;
    for (const v of this.byEvent.values()) n += v - 1;
    return n;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
