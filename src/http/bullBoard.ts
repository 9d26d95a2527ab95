import { timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { AppState } from './context.ts';
import { hashTagOf } from '../platform/keySlot.ts';
import { refuseIfOverLimit, takeRateToken, type RateLimitDeps } from '../platform/rateLimit.ts';

export const BOARD_PATH = '/admin/queues';

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface AdminAuthOptions {
  user: string;
  password: string;
  limits: RateLimitDeps;
  failuresPerMinute: number;
}

/**
 * HTTP Basic in front of everything under /admin, static assets included. Failures are counted per
 * client IP: past `failuresPerMinute` every /admin request from that IP is 429 until the minute
 * turns, right credentials included, so guessing gets no answer either way.
 */
export function adminAuth(opts: AdminAuthOptions): Middleware<AppState> {
  const { user, password, limits, failuresPerMinute } = opts;
  return async (ctx, next) => {
    if (!ctx.path.startsWith('/admin')) return next();
    const header = ctx.get('authorization');
    const match = /^Basic\s+(.+)$/i.exec(header);
    const [u, ...rest] = match ? Buffer.from(match[1]!, 'base64').toString('utf8').split(':') : [];
    if (u !== undefined && safeEqual(u, user) && safeEqual(rest.join(':'), password)) {
      await refuseIfOverLimit(limits, 'admin:auth-failure', ctx.ip, failuresPerMinute);
      return next();
    }
    // A browser's first request carries no credentials: that is a prompt, not a guess.
    if (header !== '') await takeRateToken(limits, 'admin:auth-failure', ctx.ip, failuresPerMinute);
    else await refuseIfOverLimit(limits, 'admin:auth-failure', ctx.ip, failuresPerMinute);
    ctx.status = 401;
    ctx.set('WWW-Authenticate', 'Basic realm="Conveyor admin", charset="UTF-8"');
    ctx.body = { success: false, code: 'unauthorized', message: 'admin credentials required' };
  };
}

/**
 * Bull Board over every queue, with retry and the other job actions enabled. `currentQueues` is
 * asked again before each board request: QueueSet replaces a Queue whose first handshake failed
 * (BullMQ keeps that failure for the Queue's life), and the board must show the replacement.
 */
export function bullBoard(currentQueues: () => Queue[]): Middleware<AppState> {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  const adapters = (queues: Queue[]) => queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false, allowRetries: true, displayName: hashTagOf(q.name) }));
  let shown = currentQueues();
  const board = createBullBoard({
    queues: adapters(shown),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Conveyor' } },
  });
  const plugin = serverAdapter.registerPlugin() as unknown as Middleware<AppState>;
  return (ctx, next) => {
    if (ctx.path === BOARD_PATH || ctx.path.startsWith(`${BOARD_PATH}/`)) {
      const queues = currentQueues();
      if (queues.length !== shown.length || queues.some((q, i) => q !== shown[i])) {
        shown = queues;
        board.replaceQueues(adapters(queues));
      }
    }
    return plugin(ctx, next);
  };
}
