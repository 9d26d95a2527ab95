import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { startTelemetry, type Telemetry } from '../../../src/platform/telemetry.ts';
import { signToken } from '../../../src/http/auth/jwt.ts';
import { dropDatabase } from '../../../src/platform/db.ts';
import { deleteKeys, startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { TEST_MYSQL, TEST_REDIS, uniqueName } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import { actor, quiescent, topUp, GENEROUS_LIMITS } from '../chat/chatApp.ts';
import { freePort } from '../../helpers/redisServer.ts';

// In this process ioredis and koa are loaded before any test starts telemetry, so their spans are
// checked on a started process (below), where the import hook is in place before the app loads.
describe('OpenTelemetry: a request and the jobs it caused share one trace (in-memory exporter)', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  let telemetry: Telemetry;
  const exporter = new InMemorySpanExporter();

  before(async () => {
    telemetry = await startTelemetry({ serviceName: 'conveyor-test', exporter });
    // No poll racing the commits' wakes: a wake the poll adds starts a trace of its own.
    app = await startConveyor({ env: { ...GENEROUS_LIMITS, OUTBOX_POLL: '30s' }, telemetry });
  });
  after(async () => {
    await app.stop();
    await telemetry.shutdown();
  });

  const spans = () => exporter.getFinishedSpans();
  const traceOf = (s: ReadableSpan) => s.spanContext().traceId;

  it('a donation: the request span, then every job of every hop it caused, in its trace', async () => {
    const admin = await actor(app, 'admin');
    const model = await actor(app, 'model', 'Mila');
    const viewer = await actor(app, 'client', 'Ann');
    await topUp(app, admin, viewer, '100.00');
    await quiescent(app.running.services.db);
    exporter.reset();

    const traceId = randomBytes(16).toString('hex');
    const res = await app.post('/chat/donat/add', { room: model.uuid, sum: '12.50' }, { ...viewer.auth, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    await quiescent(app.running.services.db);

    // The request's server span continues the caller's traceparent.
    const request = spans().find((s) => s.kind === SpanKind.SERVER && s.name === 'POST /chat/donat/add');
    expect(request, spans().map((s) => s.name).join(', ')).to.not.equal(undefined);
    expect(traceOf(request!)).to.equal(traceId);

    // Its rows' traceparent is the request span's, so the jobs are its descendants.
    const rows = (await app.running.services.db('outbox').where('request_id', res.headers.get('x-request-id')!).select('queue', 'traceparent')) as { queue: string; traceparent: string }[];
    expect(rows).to.not.have.length(0);
    for (const row of rows) expect(row.traceparent.split('-')[1], row.queue).to.equal(traceId);

    // bullmq-otel's consumer spans: one per job that ran, for every hop.
    await waitFor(() => ['chat.transfer-money', 'chat.update-goal', 'chat.calculate-sponsor', 'chat.save-sponsor'].every((q) => spans().some((s) => s.kind === SpanKind.CONSUMER && s.name.includes(q) && traceOf(s) === traceId)), {
      what: 'consumer spans of every hop in the request trace',
    });
    const inTrace = spans().filter((s) => traceOf(s) === traceId);
    expect(inTrace.filter((s) => s.kind === SpanKind.PRODUCER).length, 'producer spans (the adds)').to.be.greaterThan(0);
  });
});

describe('OpenTelemetry: OTLP/HTTP export to OTEL_EXPORTER_OTLP_ENDPOINT', function () {
  this.timeout(30_000);

  it('a span reaches the collector at <endpoint>/v1/traces', async () => {
    const received: { path: string; body: string }[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    const telemetry = await startTelemetry({ serviceName: 'conveyor-otlp-test', endpoint: `http://127.0.0.1:${port}` });
    try {
      await telemetry.inRequestSpan('GET', {}, async () => undefined, () => ({ route: '/healthz', status: 200 }));
    } finally {
      await telemetry.shutdown(); // flushes the batch
      collector.close();
    }
    expect(received.map((r) => r.path)).to.include('/v1/traces');
    expect(received.map((r) => r.body).join('')).to.include('GET /healthz').and.include('conveyor-otlp-test');
  });

  it('a collector that refuses the spans does not fail the shutdown (the drain still exits 0)', async () => {
    let refused = 0;
    const collector = createServer((req, res) => {
      refused++;
      req.resume().on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    const telemetry = await startTelemetry({ serviceName: 'conveyor-otlp-test', endpoint: `http://127.0.0.1:${port}` });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      await telemetry.inRequestSpan('GET', {}, async () => undefined, () => ({ route: '/healthz', status: 200 }));
      await telemetry.shutdown();
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
      collector.close();
    }
    expect(refused).to.be.greaterThan(0);
    expect(warnings.join('\n')).to.include('spans not exported at shutdown');
  });
});

/** A span as OTLP/HTTP JSON carries it (hex ids). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  scope: string;
}
const OTLP_KIND = { SERVER: 2, CONSUMER: 5 };

/** An OTLP/HTTP collector that keeps what it receives in memory. */
async function startCollector(): Promise<{ url: string; spans: OtlpSpan[]; server: Server }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const batch = JSON.parse(body) as { resourceSpans: { scopeSpans: { scope: { name: string }; spans: Omit<OtlpSpan, 'scope'>[] }[] }[] };
      for (const rs of batch.resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, scope: ss.scope.name });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}


describe('OpenTelemetry in a started process: Koa, mysql2, ioredis and the jobs, in the request trace', function () {
  this.timeout(90_000);
  const database = uniqueName('cotel');
  const prefix = uniqueName('totel');
  const secret = randomBytes(24).toString('hex');
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let child: ReturnType<typeof spawn> | undefined;
  let output = '';

  before(async () => (collector = await startCollector()));
  after(async () => {
    child?.kill('SIGKILL');
    collector.server.close();
    await deleteKeys(TEST_REDIS, prefix);
    await dropDatabase(`${TEST_MYSQL}/${database}`);
  });

  it('a donation: ioredis and mysql2 spans under the request span; Koa spans; every hop consumed in the trace', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-otel-'));
    const integrations = join(dir, 'integrations.json');
    writeFileSync(integrations, JSON.stringify({ banners: { delivery: 'topic', topic: 'banners.seen' } }));
    // As the image and npm start run it: node with tsx's loader, then main.ts, which starts telemetry.
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], {
      env: {
        ...process.env,
        ...GENEROUS_LIMITS,
        NODE_ENV: 'development',
        DATABASE_URL: `${TEST_MYSQL}/${database}`,
        REDIS_URL: TEST_REDIS,
        QUEUE_PREFIX: prefix,
        INTEGRATIONS_FILE: integrations,
        JWT_SECRET: secret,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        // No poll racing the commits' wakes (a poll's wake starts a trace of its own).
        OUTBOX_POLL: '30s',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_SERVICE_NAME: 'conveyor-process-test',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, { timeoutMs: 40_000, intervalMs: 200, what: `the app on ${port} ready` });

    const call = async (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, text: await res.text() };
    };
    const [admin, model, viewer] = [randomUUID(), randomUUID(), randomUUID()];
    const adminToken = await signToken(secret, { sub: admin, role: 'admin' });
    const modelToken = await signToken(secret, { sub: model, role: 'model', name: 'Mila' });
    const viewerToken = await signToken(secret, { sub: viewer, role: 'client', name: 'Ann' });
    expect((await call('GET', '/accounts/me', modelToken)).status).to.equal(200);
    expect((await call('GET', '/accounts/me', viewerToken)).status).to.equal(200);
    const topUp = await call('POST', '/accounts/top-up', adminToken, { user: viewer, sum: '100.00' });
    expect(topUp.status, topUp.text).to.equal(201);

    const traceId = randomBytes(16).toString('hex');
    const donation = await call('POST', '/chat/donat/add', viewerToken, { room: model, sum: '12.50' }, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    expect(donation.status, donation.text).to.equal(201);

    const inTrace = () => collector.spans.filter((s) => s.traceId === traceId);
    await waitFor(() => ['chat.transfer-money', 'chat.update-goal', 'chat.calculate-sponsor', 'chat.save-sponsor'].every((q) => inTrace().some((s) => s.kind === OTLP_KIND.CONSUMER && s.name.includes(q))), {
      timeoutMs: 30_000,
      what: 'consumer spans of every hop in the request trace',
    });
    const seen = () => inTrace().map((s) => `${s.scope}: ${s.name}`).join('\n');
    const request = inTrace().find((s) => s.kind === OTLP_KIND.SERVER && s.name === 'POST /chat/donat/add');
    expect(request, seen()).to.not.equal(undefined);
    // One server span per request: the http instrumentation's incoming spans are off.
    expect(inTrace().filter((s) => s.kind === OTLP_KIND.SERVER), seen()).to.have.length(1);

    const byId = new Map(collector.spans.map((s) => [s.spanId, s]));
    const ancestors = (s: OtlpSpan) => {
      const chain: OtlpSpan[] = [];
      for (let p = byId.get(s.parentSpanId ?? ''); p; p = byId.get(p.parentSpanId ?? '')) chain.push(p);
      return chain;
    };
    const underRequest = (s: OtlpSpan) => ancestors(s).includes(request!);
    const inJob = (s: OtlpSpan) => ancestors(s).some((a) => a.kind === OTLP_KIND.CONSUMER);
    const redis = inTrace().filter((s) => s.scope === '@opentelemetry/instrumentation-ioredis');
    expect(inTrace().filter((s) => s.scope === '@opentelemetry/instrumentation-mysql2').filter(underRequest), seen()).to.not.have.length(0);
    expect(redis.filter((s) => underRequest(s) && !inJob(s)), `the request's own ioredis spans:\n${seen()}`).to.not.have.length(0);
    expect(redis.filter(inJob), `ioredis spans in the jobs:\n${seen()}`).to.not.have.length(0);
    expect(inTrace().filter((s) => s.scope === '@opentelemetry/instrumentation-koa').filter(underRequest), seen()).to.not.have.length(0);

    child.kill('SIGTERM');
    expect(await exited, output).to.equal(0);
  });
});
