import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { randomUUID } from 'node:crypto';
import { ConfigError, envWith, loadConfig, type Config } from './config.ts';
import { createDb, ensureDatabase, migrate, migrateAroundRefused } from './platform/db.ts';
import { MigrationRefused } from './db/pendingEvents.ts';
import { createLogger } from './platform/logger.ts';
import { signToken, tokenRules } from './http/auth/jwt.ts';
import { isCanonicalUuid, ROLES as TOKEN_ROLES, type TokenRole } from './http/auth/claims.ts';
import { moduleFileProblems } from './moduleSettings.ts';
import { places } from './http/places.ts';
import type { Running } from './runtime.ts';

interface Command {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
}

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

const COMMANDS = {
  start: {
    usage: `usage: npm start -- [--role <roles>]
  Creates and migrates the database, then runs the given roles in this process.
  --role <roles>   all (default), or a comma list of api, worker, ws, scheduler (same as ROLE=)
Settings come from the environment and from .env when present (see .env.example).`,
    options: { ...HELP, role: { type: 'string' } },
  },
  migrate: {
    usage: `usage: npm run migrate
  Creates the database in DATABASE_URL if missing, applies pending migrations, exits.`,
    options: { ...HELP },
  },
  token: {
    usage: `usage: npm run -s token -- --role <role> [--sub <uuid>] [--claim key=value ...] [--ttl <seconds>]
  Prints a signed development token (JWT_SECRET) on stdout; the sub it used goes to stderr.
  --role    ${TOKEN_ROLES.join(', ')}
  --sub     the caller's uuid (default: a new random uuid)
  --claim   an extra claim, repeatable: name=Alice, user_id=42, bound_uids=a,b (comma list)
  --ttl     lifetime in seconds (default 86400)
example: TOKEN=$(npm run -s token -- --role client --claim user_id=42)`,
    options: { ...HELP, role: { type: 'string' }, sub: { type: 'string' }, claim: { type: 'string', multiple: true }, ttl: { type: 'string' } },
  },
} satisfies Record<string, Command>;

type CommandName = keyof typeof COMMANDS;

const OVERVIEW = `usage: conveyor <command> [options]      (npm start | npm run migrate | npm run -s token)
commands:
  start     create + migrate the database, then run the roles (default)
  migrate   create + migrate the database, then exit
  token     print a development token
Run a command with --help for its options.`;

/** A mistake in the command line: printed with the usage, exit 2. */
class UsageError extends Error {
  constructor(message: string, readonly usage: string) {
    super(message);
  }
}

/** Parses a command's arguments; undefined when --help was asked (usage already printed). */
function readArgs<C extends CommandName>(name: C, args: string[]): Record<string, unknown> | undefined {
  const command: Command = COMMANDS[name];
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args, options: command.options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message, command.usage);
  }
  if (values.help) {
    process.stdout.write(`${command.usage}\n`);
    return undefined;
  }
  return values;
}

/** Stops with one line per dependency that does not answer, instead of a driver's stack trace. */
async function requireDependencies(deps: { databaseUrl?: string; redisUrl?: string }): Promise<void> {
  // Imported here: it loads mysql2 and ioredis, which telemetry (when on) must see load.
  const { dependencyProblems } = await import('./platform/preflight.ts');
  const problems = await dependencyProblems(deps);
  if (problems.length === 0) return;
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}

/**
 * Creates and migrates the database. At start a contract migration that refuses (old events still
 * pending) is left for later with a warning: the process must run to drain them. `migrate` fails.
 */
async function prepareDatabase(config: Config, mode: 'start' | 'migrate'): Promise<{ applied: string[]; refused: MigrationRefused[] }> {
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl, 2);
  try {
    if (mode === 'migrate') return { applied: await migrate(db), refused: [] };
    return await migrateAroundRefused(db);
  } finally {
    await db.destroy();
  }
}

function announce(config: Config, running: Running, log: ReturnType<typeof createLogger>): void {
  if (!running.server) return;
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${running.port}`;
  for (const place of places({ api: config.roles.includes('api'), ws: config.roles.includes('ws') })) {
    const url = `${place.scheme === 'ws' ? origin.replace(/^http/, 'ws') : origin}${place.path}`;
    log.info({ url }, `${place.title.padEnd(15)} ${url}`);
  }
}

async function runStart(args: string[]): Promise<void> {
  const values = readArgs('start', args);
  if (!values) return;
  const config = loadConfig(envWith(values.role ? { ROLE: values.role as string } : {}), { check: moduleFileProblems });
  const log = createLogger(config.logLevel, config.logFormat);
  // Before mysql2 and the app load, so its instrumentations patch them; unset, nothing is imported.
  const telemetry = config.otel.endpoint ? await (await import('./platform/telemetry.ts')).startTelemetry({ serviceName: config.otel.serviceName, endpoint: config.otel.endpoint }) : undefined;
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
      .then(() => telemetry?.shutdown())
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

  await requireDependencies({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl });
  // Loaded here, not at the top: help, token and migrate answer without loading every module.
  const [{ start }, { wsExtension }] = await Promise.all([import('./runtime.ts'), import('./ws/extension.ts')]);
  started.running = prepareDatabase(config, 'start').then(({ applied, refused }) => {
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
    for (const r of refused) log.warn({ migration: r.migration }, `${r.message} Starting without it.`);
    return start(config, config.roles, { log, extensions: config.roles.includes('ws') ? [wsExtension()] : [], ...(telemetry ? { telemetry } : {}) });
  });
  announce(config, await started.running, log);
}

async function runMigrate(args: string[]): Promise<void> {
  if (!readArgs('migrate', args)) return;
  const config = loadConfig(undefined, { check: moduleFileProblems });
  await requireDependencies({ databaseUrl: config.databaseUrl });
  const { applied } = await prepareDatabase(config, 'migrate');
  process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
}

async function runToken(args: string[]): Promise<void> {
  const values = readArgs('token', args);
  if (!values) return;
  const { usage } = COMMANDS.token;
  const role = values.role as TokenRole | undefined;
  if (!role || !TOKEN_ROLES.includes(role)) throw new UsageError(`--role must be one of ${TOKEN_ROLES.join(', ')}`, usage);
  const claims: Record<string, unknown> = {};
  for (const pair of (values.claim as string[] | undefined) ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--claim takes key=value, got "${pair}"`, usage);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    // Lists (bound_uids) are given comma-separated.
    claims[key] = key === 'bound_uids' ? value.split(',').filter(Boolean) : value;
  }
  const ttl = Number(values.ttl ?? 86_400);
  if (!Number.isInteger(ttl) || ttl < 1) throw new UsageError(`--ttl takes a whole number of seconds, got "${String(values.ttl)}"`, usage);
  const sub = (values.sub as string | undefined) ?? randomUUID();
  if (!isCanonicalUuid(sub)) {
    throw new UsageError(`--sub must be a lowercase uuid (the API answers 401 to any other), got "${sub}"`, usage);
  }
  const config = loadConfig();
  const token = await signToken(tokenRules(config), { ...claims, sub, role }, ttl);
  // stdout stays the token alone, so TOKEN=$(npm run -s token ...) works.
  process.stdout.write(`${token}\n`);
  process.stderr.write(`sub=${sub} role=${role}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command = 'start', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${OVERVIEW}\n`);
    return;
  }
  // Real environment variables win over the file.
  if (existsSync('.env')) process.loadEnvFile('.env');
  if (command === 'start') return runStart(rest);
  if (command === 'migrate') return runMigrate(rest);
  if (command === 'token') return runToken(rest);
  throw new UsageError(`unknown command "${command}"`, OVERVIEW);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n\n${err.usage}\n`);
    process.exit(2);
  }
  const plain = err instanceof ConfigError || err instanceof MigrationRefused;
  process.stderr.write(plain ? `${(err as Error).message}\n` : `${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
