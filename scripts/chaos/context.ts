/** Everything a scenario may touch: the servers, the proxies, the deployment, the traffic. */
import type { Redis } from 'ioredis';
import type { Db } from '../../src/platform/db.ts';
import type { ConsumerLog } from './consumer.ts';
import type { Deployment } from './deployment.ts';
import type { OwnMariaDb, OwnRedis } from './infra.ts';
import type { TcpProxy } from './tcpProxy.ts';
import type { Attempt, Traffic } from './traffic.ts';

export interface Ctx {
  redis: OwnRedis;
  mariadb: OwnMariaDb;
  redisProxy: TcpProxy;
  mysqlProxy: TcpProxy;
  deployment: Deployment;
  traffic: Traffic;
  consumer: ConsumerLog;
  /** Direct connections (not through the proxies) for checks; reconnect after a server restart. */
  db: () => Db;
  redisClient: () => Redis;
  prefix: string;
}

export interface Outcome {
  fault: string;
  /** Extra pass/fail checks of the scenario itself (e.g. 503 within bounds). */
  checks?: { name: string; ok: boolean; detail: string }[];
}

export interface Scenario {
  name: string;
  /** Its number in the issue, for the table. */
  n: number;
  quick: boolean;
  run(ctx: Ctx): Promise<Outcome>;
}

export type { Attempt };
