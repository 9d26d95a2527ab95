import type { ParameterizedContext } from 'koa';
import type { Logger } from 'pino';
import type { Claims } from './auth/claims.ts';

export interface AppState {
  requestId: string;
  log: Logger;
  claims?: Claims;
  rawBody?: string;
}

export type AppContext = ParameterizedContext<AppState>;
