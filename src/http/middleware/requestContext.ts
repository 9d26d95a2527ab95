import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../../platform/logger.ts';
import type { Services } from '../../services.ts';
import type { Claims } from '../auth/claims.ts';
import type { AppState } from '../context.ts';

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** A request's state. Its child logger is made on first use: at `warn` most requests never log. */
class RequestState implements AppState {
  claims?: Claims;
  rawBody?: string;
  readonly #root: Logger;
  #log: Logger | undefined;

  constructor(
    root: Logger,
    readonly requestId: string,
  ) {
    this.#root = root;
  }

  get log(): Logger {
    return (this.#log ??= this.#root.child({ request_id: this.requestId }));
  }
}

/** Gives each request an id (the caller's X-Request-Id if sane), a child logger, timing and metrics. */
export function requestContext(services: Services): Middleware<AppState> {
  const { metrics } = services;
  const root = services.log;
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const requestId = SAFE_ID.test(given) ? given : randomUUID();
    ctx.state = new RequestState(root, requestId);
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? (ctx.status === 404 ? 'unmatched' : ctx.path.split('/').slice(0, 3).join('/'));
      metrics.httpRequests.inc({ method: ctx.method, route, status: ctx.status });
      metrics.httpDuration.observe({ method: ctx.method, route }, seconds);
      if (root.isLevelEnabled('info')) ctx.state.log.info({ method: ctx.method, route, status: ctx.status, ms: Math.round(seconds * 1e4) / 10 }, 'request');
    }
  };
}
