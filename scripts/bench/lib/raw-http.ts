/**
 * A minimal HTTP/1.1 keep-alive client over raw sockets. node:http's client costs ~50 µs of CPU
 * per request, so on two cores it saturates its own core near 16 k req/s, below what a bare Koa
 * server answers: the generator, not the server, would set the ceiling. This one writes
 * prebuilt request bytes and parses only the status line, the length and chunked framing.
 */
import net from 'node:net';

export interface RawResponse {
  status: number;
  body: Buffer;
}

export interface ParsedResponse {
  status: number;
  /** Bytes of the buffer this response occupies. */
  consumed: number;
  /** Body pieces (chunked bodies come in several). */
  body: Buffer[];
  /** The server will close the connection after this response. */
  close: boolean;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Parses one response at the start of `buf`; undefined while incomplete. Responses without a
 * length are not supported (Koa and ws servers always send Content-Length or chunked).
 */
export function parseResponse(buf: Buffer, method = 'GET'): ParsedResponse | undefined {
  const headerEnd = buf.indexOf(HEADER_END);
  if (headerEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headerEnd).toLowerCase();
  if (!head.startsWith('http/1.')) throw new Error(`not an HTTP response: ${JSON.stringify(head.slice(0, 40))}`);
  const status = Number(head.slice(9, 12));
  const close = /\r\nconnection:\s*close/.test(head);
  let p = headerEnd + 4;
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { status, consumed: p, body: [], close };
  }
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) {
    const end = p + Number(length[1]);
    if (buf.length < end) return undefined;
    return { status, consumed: end, body: [buf.subarray(p, end)], close };
  }
  if (!/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) throw new Error('response without Content-Length or chunked encoding');
  const body: Buffer[] = [];
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, p);
    if (lineEnd < 0) return undefined;
    const size = parseInt(buf.toString('latin1', p, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size');
    p = lineEnd + 2;
    if (size === 0) {
      // No trailers: one CRLF; with trailers: they end with an empty line.
      if (buf.length < p + 2) return undefined;
      if (buf[p] === 13 && buf[p + 1] === 10) return { status, consumed: p + 2, body, close };
      const trailersEnd = buf.indexOf(HEADER_END, p);
      return trailersEnd < 0 ? undefined : { status, consumed: trailersEnd + 4, body, close };
    }
    if (buf.length < p + size + 2) return undefined;
    body.push(buf.subarray(p, p + size));
    p += size + 2;
  }
}

interface Pending {
  bytes: Buffer | string;
  resolve: (r: RawResponse) => void;
  reject: (e: Error) => void;
}

class Connection {
  private socket: net.Socket | undefined;
  private buf: Buffer | undefined;
  private current: Pending | undefined;

  constructor(
    private readonly pool: RawHttpPool,
    private readonly host: string,
    private readonly port: number,
  ) {}

  get busy(): boolean {
    return this.current !== undefined;
  }

  send(job: Pending): void {
    this.current = job;
    if (!this.socket || this.socket.destroyed) this.open();
    this.socket!.write(job.bytes);
  }

  destroy(): void {
    const s = this.socket;
    this.socket = undefined;
    this.buf = undefined;
    s?.destroy();
  }

  private open(): void {
    const s = net.connect({ host: this.host, port: this.port, noDelay: true });
    s.setTimeout(this.pool.timeoutMs, () => s.destroy(new Error('request timeout')));
    // Events of a socket this connection has already replaced must not touch the new one's state.
    s.on('data', (chunk: Buffer) => {
      if (this.socket === s) this.onData(chunk);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.buf = undefined;
      this.fail(new Error('connection closed'));
    });
    this.socket = s;
    this.buf = undefined;
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!this.current) return;
    let parsed: ParsedResponse | undefined;
    try {
      parsed = parseResponse(this.buf, this.pool.method);
    } catch (err) {
      this.destroy();
      this.fail(err as Error);
      return;
    }
    if (!parsed) return;
    this.buf = parsed.consumed < this.buf.length ? this.buf.subarray(parsed.consumed) : undefined;
    const job = this.current;
    this.current = undefined;
    if (parsed.close) this.destroy();
    const body = parsed.body.length === 1 ? parsed.body[0]! : Buffer.concat(parsed.body);
    job.resolve({ status: parsed.status, body });
    this.pool.next(this);
  }

  private fail(err: Error): void {
    const job = this.current;
    this.current = undefined;
    if (job) {
      job.reject(err);
      this.pool.next(this);
    }
  }
}

export interface RawPoolOptions {
  host: string;
  port: number;
  method: string;
  connections: number;
  timeoutMs: number;
}

/** `connections` keep-alive sockets; requests beyond them wait in a FIFO queue. */
export class RawHttpPool {
  readonly method: string;
  readonly timeoutMs: number;
  private readonly conns: Connection[];
  private readonly queue: Pending[] = [];
  private closed = false;

  constructor(o: RawPoolOptions) {
    this.method = o.method;
    this.timeoutMs = o.timeoutMs;
    this.conns = Array.from({ length: o.connections }, () => new Connection(this, o.host, o.port));
  }

  request(bytes: Buffer | string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('pool closed'));
      const job = { bytes, resolve, reject };
      const idle = this.conns.find((c) => !c.busy);
      if (idle) idle.send(job);
      else this.queue.push(job);
    });
  }

  /** Called by a connection that just finished: it takes the next waiting request. */
  next(conn: Connection): void {
    const job = this.queue.shift();
    if (!job) return;
    if (this.closed) job.reject(new Error('pool closed'));
    else conn.send(job);
  }

  close(): void {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('pool closed'));
    for (const c of this.conns) c.destroy();
  }
}

/** The bytes of one request; `extraHeaders` already formatted as `name: value\r\n` lines. */
export function requestBytes(method: string, path: string, hostHeader: string, extraHeaders: string, body?: string | Buffer): Buffer | string {
  const head = `${method} ${path} HTTP/1.1\r\nhost: ${hostHeader}\r\nconnection: keep-alive\r\n${extraHeaders}`;
  if (body === undefined) return `${head}\r\n`;
  const h = `${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return typeof body === 'string' ? h + body : Buffer.concat([Buffer.from(h, 'latin1'), body]);
}
