import { expect } from 'chai';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { dropDatabase } from '../../src/platform/db.ts';
import { deleteKeys, startConveyor, type TestConveyor } from '../helpers/conveyor.ts';
import { TEST_MYSQL, TEST_REDIS, uniqueName } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait.ts';
import { freePort } from '../helpers/redisServer.ts';

// The first tests need no container engine: they read the Dockerfile and run the commands it gives.
const dockerfile = readFileSync('Dockerfile', 'utf8').replace(/\\\n\s*/g, ' ');
const lines = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const runtime = lines.slice(lines.findLastIndex((l) => l.startsWith('FROM ')));
const instruction = (name: string) => runtime.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());

/** An exec-form instruction's argument list (JSON array). */
function execForm(text: string): string[] {
  const json = text.slice(text.indexOf('['));
  const args = JSON.parse(json) as unknown;
  expect(args, text).to.be.an('array');
  return args as string[];
}

function run(args: string[], env: Record<string, string>): Promise<number | null> {
  const child = spawn(args[0]!, args.slice(1), { env: { ...process.env, ...env }, stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('the container image (Dockerfile, .dockerignore)', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  before(async () => (app = await startConveyor()));
  after(() => app?.stop());

  it('runs as an unprivileged user, with an init as PID 1 and exec-form commands', () => {
    expect(instruction('USER')).to.deep.equal(['node']);
    expect(execForm(instruction('ENTRYPOINT')[0]!)).to.deep.equal(['/usr/bin/tini', '--']);
    expect(runtime.some((l) => l.startsWith('RUN ') && l.includes('tini'))).to.equal(true);
    // node itself after the init: no shell or npm in between to swallow SIGTERM.
    expect(execForm(instruction('CMD')[0]!)).to.deep.equal(['node', '--max-semi-space-size=64', '--import', 'tsx', 'src/main.ts', 'start']);
    // The same command as npm start, flags included.
    expect(execForm(instruction('CMD')[0]!).join(' ')).to.equal((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start);
    // The base is an argument (a stand-in where the official image cannot be pulled); node:22 by default.
    expect(lines).to.include('ARG NODE_IMAGE=node:22-bookworm-slim');
    expect(lines.filter((l) => l.startsWith('FROM '))).to.deep.equal(['FROM ${NODE_IMAGE} AS deps', 'FROM ${NODE_IMAGE} AS runtime']);
    expect(dockerfile).to.match(/npm ci --omit=dev/);
  });

  it('copies what exists, and keeps host node_modules, .env and .git out of the build context', () => {
    for (const copy of instruction('COPY').filter((c) => !c.startsWith('--from'))) {
      for (const source of copy.split(/\s+/).slice(0, -1)) expect(existsSync(source), source).to.equal(true);
    }
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).to.include.members(['node_modules', '.env', '.git']);
  });

  it("its HEALTHCHECK command passes when /readyz is 200 and fails when nothing answers", async () => {
    const check = instruction('HEALTHCHECK')[0]!;
    expect(check).to.include('/readyz');
    const args = execForm(check.slice(check.indexOf('CMD ') + 4));
    expect(args[0]).to.equal('node');
    const cmd = [process.execPath, ...args.slice(1)];
    expect(await run(cmd, { PORT: String(app.running.port) })).to.equal(0);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await run(cmd, { PORT: String(port) })).to.equal(1);
  });
});


/**
 * The engine that builds and runs the image: CONTAINER_ENGINE, else podman or docker, whichever
 * answers `info`. Undefined (the test is skipped) when none does.
 */
function containerEngine(): 'podman' | 'docker' | undefined {
  const wanted = process.env.CONTAINER_ENGINE;
  const candidates: ('podman' | 'docker')[] = wanted === 'podman' || wanted === 'docker' ? [wanted] : ['podman', 'docker'];
  return candidates.find((cmd) => spawnSync(cmd, ['info'], { stdio: 'ignore', timeout: 30_000 }).status === 0);
}

const exec = promisify(execFile);

/**
 * Built and run for real, where an engine and the base image are at hand. Settings (all optional):
 * CONTAINER_ENGINE, NODE_IMAGE (the base, as the Dockerfile's build argument), CONTAINER_BUILD_FLAGS
 * (extra `build` flags, space-separated, e.g. a CA bundle mounted for a TLS-intercepting proxy).
 */
describe('the container image, built and run (podman or docker)', function () {
  this.timeout(15 * 60_000);
  const base = process.env.NODE_IMAGE ?? 'node:22-bookworm-slim';
  const tag = `localhost/conveyor-test:${randomBytes(4).toString('hex')}`;
  const name = uniqueName('conveyor_test');
  const database = uniqueName('cimg');
  const prefix = uniqueName('timg');
  let engine: 'podman' | 'docker';
  let built = false;
  let started = false;
  const run = (args: string[], timeout = 60_000) => exec(engine, args, { timeout, maxBuffer: 64 * 1024 * 1024 });

  before(async function () {
    const found = containerEngine();
    if (!found) {
      console.warn('  skipped: no container engine answers (podman info / docker info); set CONTAINER_ENGINE to pick one');
      this.skip();
    }
    engine = found!;
    // Pulling is not part of the test: the base must be in the engine's storage (pull it first).
    if (spawnSync(engine, ['image', 'inspect', base], { stdio: 'ignore', timeout: 30_000 }).status !== 0) {
      console.warn(`  skipped: the base image ${base} is not in ${engine}'s storage (${engine} pull ${base}, or NODE_IMAGE=<a local base>)`);
      this.skip();
    }
  });

  after(async () => {
    if (started) await run(['rm', '-f', name]).catch(() => undefined);
    if (built) await run(['rmi', '-f', tag]).catch(() => undefined);
    if (started) {
      await deleteKeys(TEST_REDIS, prefix);
      await dropDatabase(`${TEST_MYSQL}/${database}`);
    }
  });

  it('builds; runs as node under tini; /readyz answers; the HEALTHCHECK passes; docker stop drains and exits 0', async () => {
    const flags = (process.env.CONTAINER_BUILD_FLAGS ?? '').split(/\s+/).filter(Boolean);
    // podman writes OCI images by default, which drop HEALTHCHECK: ask for the docker format.
    const format = engine === 'podman' ? ['--format', 'docker'] : [];
    await run(['build', ...format, ...flags, '--build-arg', `NODE_IMAGE=${base}`, '-t', tag, '.'], 10 * 60_000).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`${engine} build failed: ${(err.stderr ?? err.message).slice(-3000)}`);
    });
    built = true;

    const port = await freePort();
    // The image's own defaults (NODE_ENV=production): a real secret and admin credentials are required.
    const env = {
      JWT_SECRET: randomBytes(24).toString('hex'),
      ADMIN_USER: 'ops',
      ADMIN_PASSWORD: randomBytes(12).toString('hex'),
      WS_ORIGINS: 'http://127.0.0.1',
      DATABASE_URL: `${TEST_MYSQL}/${database}`,
      REDIS_URL: TEST_REDIS,
      QUEUE_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    await run(['run', '-d', '--name', name, '--network', 'host', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), tag]);
    started = true;
    const logs = async () => {
      const { stdout, stderr } = await run(['logs', name]);
      return stdout + stderr;
    };
    const ready = async () => {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200) return true;
      // A container that stopped (a refused setting) will never answer: say why now.
      if ((await run(['inspect', '--format', '{{.State.Running}}', name])).stdout.trim() !== 'true') throw new Error('the container exited');
      return false;
    };
    await waitFor(ready, { timeoutMs: 90_000, intervalMs: 500, what: 'the container ready' }).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${(await logs()).slice(-3000)}`);
    });

    // PID 1 is tini, and node runs as the unprivileged user.
    expect((await run(['exec', name, 'cat', '/proc/1/cmdline'])).stdout.split('\0')[0]).to.equal('/usr/bin/tini');
    expect((await run(['exec', name, 'id', '-un'])).stdout.trim()).to.equal('node');
    // The image's HEALTHCHECK, as the engine runs it.
    if (engine === 'podman') await run(['healthcheck', 'run', name]);
    else await waitFor(async () => (await run(['inspect', '--format', '{{.State.Health.Status}}', name])).stdout.trim() === 'healthy', { timeoutMs: 60_000, intervalMs: 1000, what: 'healthy' });

    // SIGTERM (the stop signal) reaches node through tini: the drain runs and the exit is clean,
    // well within the grace period (a SIGKILL at its end would give 137).
    const stopping = Date.now();
    await run(['stop', '-t', '40', name]);
    expect(Date.now() - stopping).to.be.lessThan(30_000);
    expect((await run(['inspect', '--format', '{{.State.ExitCode}}', name])).stdout.trim()).to.equal('0');
    const out = await logs();
    expect(out).to.include('"signal":"SIGTERM"').and.include('"msg":"stopped"');
    expect(out).to.not.include('shutdown timed out');
  });
});
