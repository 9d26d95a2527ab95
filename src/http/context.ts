import type { ParameterizedContext } from 'koa';
import type { Logger } from 'pino';
import type { Trace } from '../platform/trace.ts';
import type { Claims } from './auth/claims.ts';

export interface AppState {
  requestId: string;
  /** The request's trace (its id and traceparent): what it writes carries it (src/platform/trace.ts). */
  trace: Trace;
  log: Logger;
  claims?: Claims;
  rawBody?: string;
}

export type AppContext = ParameterizedContext<AppState>;
