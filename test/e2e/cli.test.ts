import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyToken } from '../../src/http/auth/jwt.ts';
import { dropDatabase } from '../../src/platform/db.ts';
import { deleteKeys } from '../helpers/conveyor.ts';
import { TEST_MYSQL, TEST_REDIS, uniqueName } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait.ts';
import { ROLES } from '../../src/http/auth/claims.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as users do (node + tsx + src/main.ts) and collects what it printed. */
function cli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<Result> {
  // NODE_ENV=test would hide nothing here, but keeps LOG_LEVEL at its default for a start.
  const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'development', ...opts.env };
  for (const [key, value] of Object.entries(opts.env ?? {})) if (value === '') delete env[key];
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** A port that accepts TCP and closes it at once: neither MySQL nor Redis answers there. */
async function closedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

async function unusedPort(): Promise<number> {
  const { port, server } = await closedPort();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the command line (start, migrate, token)', function () {
  // Each case starts node + tsx; on a busy machine that alone takes seconds.
  this.timeout(180_000);

  for (const command of ['start', 'migrate', 'token']) {
    it(`${command} --help prints its usage on stdout and exits 0`, async () => {
      const { code, stdout, stderr } = await cli([command, '--help']);
      expect(code).to.equal(0);
      expect(stdout).to.match(/^usage: /);
      expect(stderr).to.equal('');
    });

    it(`${command} with an unknown option prints the problem and the usage, no stack trace, exit 2`, async () => {
      const { code, stdout, stderr } = await cli([command, '--no-such-flag']);
      expect(code).to.equal(2);
      expect(stdout).to.equal('');
      expect(stderr).to.include("Unknown option '--no-such-flag'");
      expect(stderr).to.include('usage: ');
      expect(stderr).not.to.match(/\n\s+at /);
    });
  }

  it('an unknown command prints the list of commands, exit 2', async () => {
    const { code, stderr } = await cli(['strat']);
    expect(code).to.equal(2);
    expect(stderr).to.include('unknown command "strat"');
    expect(stderr).to.include('migrate');
  });

  it('token knows exactly the roles of the contract (docs/API.md)', () => {
    const line = /`role` \(([^)]+)\)/.exec(readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8').replace(/\s+/g, ' '))?.[1];
    const contract = [...(line ?? '').matchAll(/`([a-z]+)`/g)].map((m) => m[1]);
    expect(contract).to.have.length.greaterThan(5);
    expect([...ROLES].sort()).to.deep.equal(contract.sort());
  });

  it('token: stdout is the token alone, stderr names the sub it chose; every role of the contract is known', async () => {
    const secret = 'a-test-secret-that-is-long-enough-000';
    const runs = await Promise.all(ROLES.map((role) => cli(['token', '--role', role, '--claim', 'name=Ann'], { env: { JWT_SECRET: secret } })));
    for (const [i, role] of ROLES.entries()) {
      const { code, stdout, stderr } = runs[i]!;
      expect(code, stderr).to.equal(0);
      const sub = /sub=([0-9a-f-]{36})/.exec(stderr)?.[1];
      expect(sub, stderr).to.be.a('string');
      const claims = await verifyToken(secret, stdout.trim());
      expect(stdout.trim().split('\n')).to.have.length(1);
      expect(claims).to.include({ sub, role, name: 'Ann' });
    }
  });

  it('token: a bad role, claim, sub or ttl is a usage error (exit 2), not a stack trace', async () => {
    const cases = [['--role', 'wizard'], ['--role', 'client', '--claim', 'novalue'], ['--role', 'client', '--sub', 'Not-A-Uuid'], ['--role', 'client', '--ttl', '-5'], []];
    const runs = await Promise.all(cases.map((args) => cli(['token', ...args])));
    for (const [i, args] of cases.entries()) {
      const { code, stdout, stderr } = runs[i]!;
      expect(code, args.join(' ')).to.equal(2);
      expect(stdout).to.equal('');
      expect(stderr).to.include('usage: npm run -s token');
      expect(stderr).not.to.match(/\n\s+at /);
    }
  });

  it('reads .env from the working directory; a variable set in the environment wins over the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-env-'));
    writeFileSync(join(dir, '.env'), 'JWT_SECRET=secret-from-the-dot-env-file-0000000\n');
    const fromFile = await cli(['token', '--role', 'client'], { cwd: dir, env: { JWT_SECRET: '' } });
    expect(fromFile.code, fromFile.stderr).to.equal(0);
    await verifyToken('secret-from-the-dot-env-file-0000000', fromFile.stdout.trim());
    const fromEnv = await cli(['token', '--role', 'client'], { cwd: dir, env: { JWT_SECRET: 'secret-from-the-real-environment-00' } });
    await verifyToken('secret-from-the-real-environment-00', fromEnv.stdout.trim());
  });

  it('start with MySQL and Redis unreachable: one line for each, saying how to start them, exit 1', async () => {
    const mysql = await closedPort();
    const redisPort = await unusedPort();
    try {
      const { code, stdout, stderr } = await cli(['start'], {
        env: { DATABASE_URL: `mysql://root:hunter2@127.0.0.1:${mysql.port}/conveyor`, REDIS_URL: `redis://127.0.0.1:${redisPort}`, PORT: '0' },
      });
      expect(code).to.equal(1);
      expect(stdout).to.equal('');
      const lines = stderr.trim().split('\n');
      expect(lines, stderr).to.have.length(2);
      expect(lines[0]).to.match(/^MySQL is not reachable at mysql:\/\/root:\*\*\*@127\.0\.0\.1:\d+\/conveyor/);
      expect(lines[1]).to.match(/^Redis is not reachable at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
      for (const line of lines) expect(line).to.include('docker compose up -d redis mysql');
      expect(stderr).not.to.include('hunter2');
      expect(stderr).not.to.include('Acquire connection error');
    } finally {
      mysql.server.close();
    }
  });

  it('start with LOG_FORMAT=pretty logs readable lines, one per place to go, and drains on SIGTERM', async () => {
    const database = `${TEST_MYSQL}/${uniqueName('ccli')}`;
    const prefix = uniqueName('tcli');
    const env = { ...process.env, NODE_ENV: 'development', LOG_FORMAT: 'pretty', LOG_LEVEL: 'info', PORT: String(await unusedPort()), HOST: '127.0.0.1', DATABASE_URL: database, REDIS_URL: TEST_REDIS, QUEUE_PREFIX: prefix };
    const child = spawn(process.execPath, ['--import', TSX, MAIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => /Readiness\s+http:\/\/127\.0\.0\.1:\d+\/readyz/.test(out), { timeoutMs: 60_000, what: 'the readiness line' });
      const lines = out.split('\n').filter((l) => / INFO: (API|API reference|OpenAPI|Bull Board|Chat page|Popug page|WebSocket|Metrics|Readiness)\s+(http|ws):\/\//.test(l));
      expect(lines, out).to.have.length(9);
      expect(out).not.to.match(/^\{"level"/m);
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      child.kill('SIGKILL');
      await deleteKeys(TEST_REDIS, prefix);
      await dropDatabase(database);
    }
  });

  it('migrate with MySQL unreachable says so in one line, exit 1', async () => {
    const { code, stderr } = await cli(['migrate'], { env: { DATABASE_URL: `mysql://root@127.0.0.1:${await unusedPort()}/conveyor` } });
    expect(code).to.equal(1);
    expect(stderr.trim().split('\n')).to.have.length(1);
    expect(stderr).to.match(/^MySQL is not reachable .*\(ECONNREFUSED\)/);
  });
});
