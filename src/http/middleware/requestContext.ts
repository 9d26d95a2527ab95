import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../../platform/logger.ts';
import { validTraceparent, type Trace } from '../../platform/trace.ts';
import type { Services } from '../../services.ts';
import type { Claims } from '../auth/claims.ts';
import type { AppState } from '../context.ts';

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** A request's state. Its child logger is made on first use: at `warn` most requests never log. */
class RequestState implements AppState {
  claims?: Claims;
  rawBody?: string;
  trace: Trace;
  readonly #root: Logger;
  #log: Logger | undefined;

  constructor(
    root: Logger,
    readonly requestId: string,
  ) {
    this.#root = root;
    this.trace = { request_id: requestId };
  }

  get log(): Logger {
    return (this.#log ??= this.#root.child({ request_id: this.requestId }));
  }
}

/**
 * The route label of a request no route matched: its mount (the board, the rest of /admin, the
 * chat page), else `unmatched`. Never the path itself, which the caller chooses: every new path
 * would be a new time series.
 */
export function mountLabel(path: string): string {
  if (path === '/admin/queues' || path.startsWith('/admin/queues/')) return '/admin/queues';
  if (path === '/admin' || path.startsWith('/admin/')) return '/admin';
  if (path === '/chat' || path.startsWith('/chat/')) return '/chat/';
  return 'unmatched';
}

/** The route label metrics and spans name a request by. */
function routeOf(ctx: { path: string }): string {
  return (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? mountLabel(ctx.path);
}

/**
 * Gives each request an id (the caller's X-Request-Id if sane), a child logger, timing and metrics.
 * The id and an incoming W3C traceparent are the request's trace (`ctx.state.trace`,
 * src/platform/trace.ts): routes hand it to what they write, so the outbox rows and jobs it causes carry them.
 */
export function requestContext(services: Services): Middleware<AppState> {
  const { metrics } = services;
  const root = services.log;
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const requestId = SAFE_ID.test(given) ? given : randomUUID();
    ctx.state = new RequestState(root, requestId);
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    const traced = () => {
      // With telemetry on, the rows and jobs continue the request's span; else the incoming header.
      const traceparent = services.telemetry?.traceparent() ?? validTraceparent(ctx.get('traceparent') || undefined);
      if (traceparent) ctx.state.trace = { request_id: requestId, traceparent };
      return next();
    };
    try {
      await (services.telemetry ? services.telemetry.inRequestSpan(ctx.method, ctx.headers, traced, () => ({ route: routeOf(ctx), status: ctx.status })) : traced());
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(ctx);
      metrics.httpRequests.inc({ method: ctx.method, route, status: ctx.status });
      metrics.httpDuration.observe({ method: ctx.method, route }, seconds);
      if (root.isLevelEnabled('info')) ctx.state.log.info({ method: ctx.method, route, status: ctx.status, ms: Math.round(seconds * 1e4) / 10 }, 'request');
    }
  };
}
