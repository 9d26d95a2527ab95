/** Every scenario in the order they run. */
import type { Scenario } from '../context.ts';
import { apiKill, workerKill, wsKill, zombieWorker } from './processFaults.ts';
import { redisFull, redisPause, redisRestart } from './redisFaults.ts';
import { mysqlKill, mysqlStop } from './mysqlFaults.ts';
import { deadlockStorm, networkFaults, retriesExhausted } from './otherFaults.ts';
import { payoutKill } from './payoutFaults.ts';

export const SCENARIOS: Scenario[] = [workerKill, redisRestart, mysqlKill, apiKill, zombieWorker, deadlockStorm, wsKill, redisPause, mysqlStop, redisFull, networkFaults, retriesExhausted, payoutKill];
