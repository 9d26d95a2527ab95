import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { ConfigError, envWith, loadConfig, type Config } from './config.ts';
import { createDb, ensureDatabase, migrate, migrateUntilRefused } from './platform/db.ts';
import { MigrationRefused } from './db/pendingEvents.ts';
import { createLogger } from './platform/logger.ts';
import { signToken, tokenRules } from './http/auth/jwt.ts';
import { isCanonicalUuid, ROLES as TOKEN_ROLES, type TokenRole } from './http/auth/claims.ts';
import { moduleFileProblems } from './moduleSettings.ts';
import { start, type Running } from './runtime.ts';
import { wsExtension } from './ws/extension.ts';

const USAGE = `usage:
  conveyor start [--role all|api|worker|ws|scheduler[,...]]   create + migrate the database, run the roles
  conveyor migrate                                            create + migrate the database, then exit
  conveyor token --role <role> [--sub <uuid>] [--claim k=v ...] [--ttl <seconds>]`;

/** A mistake in the command line: its message is enough, a stack trace would only hide it. */
class UsageError extends Error {}

/**
 * Creates and migrates the database. At start a contract migration that refuses (old events still
 * pending) is left for later with a warning: the process must run to drain them. `migrate` fails.
 */
async function prepareDatabase(config: Config, mode: 'start' | 'migrate'): Promise<{ applied: string[]; refused: MigrationRefused | null }> {
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl, 2);
  try {
    if (mode === 'migrate') return { applied: await migrate(db), refused: null };
    return await migrateUntilRefused(db);
  } finally {
    await db.destroy();
  }
}

async function runStart(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { role: { type: 'string' } } });
  const config = loadConfig(envWith(values.role ? { ROLE: values.role } : {}), { check: moduleFileProblems });
  const log = createLogger(config.logLevel);
  // Handlers go in first: a SIGTERM that arrives while the roles are still starting must drain
  // them once they are up, not kill the process mid-start.
  const started: { running?: Promise<Running> } = {};
  const shutdown = (signal: string) => {
    log.info({ signal }, 'signal received; draining');
    const force = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    (started.running ?? Promise.resolve(undefined))
      .then((running) => running?.stop())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  started.running = prepareDatabase(config, 'start').then(({ applied, refused }) => {
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
    if (refused) log.warn({ migration: refused.migration }, `${refused.message} Starting without it and the migrations after it.`);
    return start(config, config.roles, { log, extensions: config.roles.includes('ws') ? [wsExtension()] : [] });
  });
  await started.running;
}

async function runToken(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { role: { type: 'string' }, sub: { type: 'string' }, claim: { type: 'string', multiple: true }, ttl: { type: 'string' } },
  });
  const role = values.role as TokenRole | undefined;
  if (!role || !TOKEN_ROLES.includes(role)) throw new UsageError(`--role must be one of ${TOKEN_ROLES.join(', ')}`);
  // The server refuses any other sub (API.md): better to say so here than to print a useless token.
  if (values.sub !== undefined && !isCanonicalUuid(values.sub)) throw new UsageError(`--sub must be a lowercase uuid, got "${values.sub}"`);
  const ttl = Number(values.ttl ?? 86_400);
  if (!Number.isInteger(ttl) || ttl < 1) throw new UsageError(`--ttl takes a whole number of seconds, got "${values.ttl}"`);
  const claims: Record<string, unknown> = {};
  for (const pair of values.claim ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--claim takes key=value, got "${pair}"`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    // Lists (bound_uids) are given comma-separated.
    claims[key] = key === 'bound_uids' ? value.split(',').filter(Boolean) : value;
  }
  const config = loadConfig();
  const token = await signToken(tokenRules(config), { ...claims, sub: values.sub ?? randomUUID(), role }, ttl);
  process.stdout.write(`${token}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command = 'start', ...rest] = argv;
  if (command === 'start') return runStart(rest);
  if (command === 'migrate') {
    const { applied } = await prepareDatabase(loadConfig(undefined, { check: moduleFileProblems }), 'migrate');
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
    return;
  }
  if (command === 'token') return runToken(rest);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const expected = err instanceof ConfigError || err instanceof UsageError || err instanceof MigrationRefused;
  process.stderr.write(expected ? `${(err as Error).message}\n` : `${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
