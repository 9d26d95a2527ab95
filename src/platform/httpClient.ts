import { Pool, type Dispatcher } from 'undici';

export interface PostResult {
  status: number;
}

export class HttpTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

// One keep-alive pool per origin, shared by every outgoing call of this process. undici's
// dispatch costs less than half the CPU of node:http per call (and fetch() more than either),
// which matters when a worker makes thousands of deliveries a second (docs/BENCHMARKS.md).
const pools = new Map<string, Pool>();
const targets = new Map<string, { pool: Pool; path: string }>();

function targetOf(url: string): { pool: Pool; path: string } {
  let target = targets.get(url);
  if (!target) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`unsupported protocol in ${url}`);
    let pool = pools.get(parsed.origin);
    if (!pool) {
      pool = new Pool(parsed.origin, { connections: 256 });
      pools.set(parsed.origin, pool);
    }
    target = { pool, path: `${parsed.pathname}${parsed.search}` };
    // Integration URLs are few and fixed; the bound only guards against a caller passing many.
    if (targets.size < 1_000) targets.set(url, target);
  }
  return target;
}

/**
 * One POST: resolves with the status once the answer has been read (its body is discarded);
 * rejects on network errors and when the whole exchange takes longer than the timeout.
 */
class PostHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private settled = false;
  private controller: Dispatcher.DispatchController | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly resolve: (r: PostResult) => void,
    private readonly reject: (err: Error) => void,
    private readonly timeoutMs: number,
  ) {
    this.timer = setTimeout(PostHandler.expire, timeoutMs, this);
  }

  private static expire(this: void, handler: PostHandler): void {
    const err = new HttpTimeoutError(handler.timeoutMs);
    handler.fail(err);
    handler.controller?.abort(err);
  }

  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.reject(err);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Timed out while waiting for a connection: do not send it at all.
    if (this.settled) controller.abort(new HttpTimeoutError(this.timeoutMs));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve({ status: this.status });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }
}

/** POSTs a JSON body and resolves with the status once the answer is read; rejects on network errors and timeouts. */
export function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    let handler: PostHandler | undefined;
    try {
      const { pool, path } = targetOf(url);
      handler = new PostHandler(resolve, reject, timeoutMs);
      pool.dispatch({ path, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }, handler);
    } catch (err) {
      if (handler) handler.fail(err as Error);
      else reject(err as Error);
    }
  });
}
