import type { Middleware } from 'koa';
import { AppError, RateLimited, Unavailable } from '../../platform/errors.ts';
import type { AppState } from '../context.ts';
import { REDIRECTED } from '../../platform/redis.ts';

const DEPENDENCY_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR', 'PROTOCOL_SEQUENCE_TIMEOUT']);

/** Redis or MySQL being down is the caller's cue to retry later (503), not our bug (500). */
export function isDependencyError(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string; fatal?: boolean };
  if (e.code && DEPENDENCY_ERRORS.has(e.code)) return true;
  // mysql2 marks errors of the connection itself fatal (not of the statement): e.g. the ROLLBACK
  // knex sends on a connection the MySQL probe failed while its server was frozen.
  if (e.fatal === true) return true;
  if (e.name === 'MaxRetriesPerRequestError' || e.name === 'KnexTimeoutError') return true;
  if (e.name === 'ClusterAllFailedError') return true;
  // "Command timed out": ioredis's commandTimeout (a paused or partitioned Redis). The rest: a
  // Redis Cluster in a failover (slots moving, no master for a slot yet).
  const message = e.message ?? '';
  return REDIRECTED.test(message) || /Connection is closed|Stream isn't writeable|enableOfflineQueue|connect ECONNREFUSED|Command timed out|Too many Cluster redirections|Failed to refresh slots cache|Cluster isn't ready/.test(message);
}

/** Maps every error to `{success: false, code, message}` with its status; nothing leaks a stack. */
export function errorHandler(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { success: false, code: 'not_found', message: `no route for ${ctx.method} ${ctx.path}` };
      }
    } catch (caught) {
      let err = caught;
      if (!(err instanceof AppError) && isDependencyError(err)) err = new Unavailable();
      if (err instanceof AppError) {
        ctx.status = err.status;
        ctx.body = { success: false, code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
        if (err instanceof RateLimited || err instanceof Unavailable) ctx.set('Retry-After', String(err.retryAfterSeconds));
        if (err.status >= 500) ctx.state.log.warn({ err: caught }, 'dependency unavailable');
        return;
      }
      const status = (err as { status?: number; expose?: boolean }).status;
      if (status && status >= 400 && status < 500) {
        ctx.status = status;
        ctx.body = { success: false, code: 'bad_request', message: (err as Error).message };
        return;
      }
      ctx.state.log.error({ err }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { success: false, code: 'internal', message: 'internal error' };
    }
  };
}
