import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { startConveyor, type TestConveyor } from '../helpers/conveyor.ts';

// No Docker daemon is needed: these read the Dockerfile and run the commands it gives.
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
    expect(execForm(instruction('CMD')[0]!)).to.deep.equal(['node', '--import', 'tsx', 'src/main.ts', 'start']);
    expect(lines.some((l) => /^FROM node:22\b/.test(l))).to.equal(true);
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
