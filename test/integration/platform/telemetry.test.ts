import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { startTelemetry, type Telemetry } from '../../../src/platform/telemetry.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { waitFor } from '../../helpers/wait.ts';
import { actor, quiescent, topUp, GENEROUS_LIMITS } from '../chat/chatApp.ts';

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
    await waitFor(() => ['chat.transfer-money', 'chat.update-goal', 'chat.broadcast-donate', 'chat.save-sponsor'].every((q) => spans().some((s) => s.kind === SpanKind.CONSUMER && s.name.includes(q) && traceOf(s) === traceId)), {
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
});
