/**
 * Conveyor itself as a benchmark child: the given roles, in one process, on a given DB and prefix.
 * Usage: conveyor.ts --roles api,worker --database-url <url> --prefix <p> --consumer <url>
 * Prints READY {"port"}; command `deliveries` answers the deliver-seen queue's counts.
 */
import { loadConfig, type Role } from '../../../src/config.ts';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { start } from '../../../src/runtime.ts';
import { parseArgs } from '../lib/args.ts';
import { serveChild } from '../lib/child.ts';
import { DEFAULT_REDIS_URL } from '../lib/redis.ts';

const args = parseArgs(process.argv.slice(2), { name: 'conveyor' });
const roles = args.str('roles', 'api,worker').split(',') as Role[];
const config = loadConfig({
  NODE_ENV: 'development',
  PORT: '0',
  HOST: '127.0.0.1',
  DATABASE_URL: args.str('database-url', 'mysql://root@127.0.0.1:3306/conveyor_bench'),
  REDIS_URL: args.str('redis', DEFAULT_REDIS_URL),
  QUEUE_PREFIX: args.str('prefix', 'bench'),
  JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
  ADMIN_PASSWORD: 'bench',
  LOG_LEVEL: args.str('log-level', 'warn'),
  ROLE: roles.join(','),
});
const integrations = parseIntegrations({
  promotions: { delivery: 'http', url: args.str('consumer', 'http://127.0.0.1:9/v1/seen'), timeout_ms: 2000, backoff: { delay_ms: 100, max_delay_ms: 1000 } },
});
const running = await start(config, roles, { integrations });
const queue = running.services.queues.get('notify.deliver-seen');

const child = serveChild({
  stop: () => running.stop(),
  commands: {
    deliveries: async () => queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
  },
});
child.ready({ port: running.port });
