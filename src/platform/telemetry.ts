import { register } from 'node:module';
import type { Telemetry as BullTelemetry } from 'bullmq';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { BatchSpanProcessor, NodeTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BullMQOtel } from 'bullmq-otel';

/**
 * OpenTelemetry, on only with OTEL_EXPORTER_OTLP_ENDPOINT: this module and its packages are
 * imported dynamically (loadTelemetry), so a process without it loads none of them.
 */
export interface Telemetry {
  /** BullMQ's telemetry (bullmq-otel): a job's spans continue the trace of the add that made it. */
  bullmq: BullTelemetry;
  /**
   * Runs `fn` in a server span for an HTTP request, continuing an incoming traceparent. `ended`
   * gives the route label (never the raw path: one span name per route) and status at the end.
   */
  inRequestSpan<T>(method: string, headers: Record<string, string | string[] | undefined>, fn: () => Promise<T>, ended: () => { route: string; status: number }): Promise<T>;
  /** The traceparent of the span running now, for the outbox rows and jobs it writes. */
  traceparent(): string | undefined;
  /** BullMQ job metadata that makes a job continue this traceparent (an outbox row's). */
  jobMetadata(traceparent: string): string;
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318; or `exporter` (tests: InMemorySpanExporter). */
  endpoint?: string;
  exporter?: SpanExporter;
}

export async function startTelemetry(opts: TelemetryOptions): Promise<Telemetry> {
  registerImportHook();
  const exporter = opts.exporter ?? (await otlpExporter(opts.endpoint));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    // A given exporter (tests) sees each span as it ends; the OTLP one gets them in batches.
    spanProcessors: [opts.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  // The default propagator: W3C trace context (and baggage).
  provider.register();
  const instrumentations = await loadInstrumentations();
  const tracer = trace.getTracer('conveyor');

  return {
    bullmq: new BullMQOtel({ tracerName: 'bullmq' }) as unknown as BullTelemetry,
    async inRequestSpan(method, headers, fn, ended) {
      const parent = propagation.extract(context.active(), headers);
      return tracer.startActiveSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent, async (span) => {
        try {
          return await fn();
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw err;
        } finally {
          const { route, status } = ended();
          span.updateName(`${method} ${route}`);
          span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        }
      });
    },
    traceparent() {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      return carrier.traceparent;
    },
    jobMetadata: (traceparent) => JSON.stringify({ traceparent }),
    async shutdown() {
      for (const i of instrumentations) i.disable();
      // Spans a collector cannot take are lost either way: that must not fail the drain's exit.
      await provider.shutdown().catch((err: unknown) => process.emitWarning(`OpenTelemetry: spans not exported at shutdown: ${(err as Error).message}`));
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

async function otlpExporter(endpoint: string | undefined): Promise<SpanExporter> {
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  return new OTLPTraceExporter(endpoint ? { url: `${endpoint.replace(/\/$/, '')}/v1/traces` } : {});
}

/**
 * The app imports ioredis and koa (CommonJS packages) with `import`, which require hooks never see:
 * this ESM loader hook (import-in-the-middle) lets their instrumentations patch them as they load.
 * Only those two are intercepted; once per process, and only when telemetry is on.
 */
const ESM_INSTRUMENTED = ['ioredis', 'koa'];
let importHookRegistered = false;
function registerImportHook(): void {
  if (importHookRegistered) return;
  importHookRegistered = true;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ESM_INSTRUMENTED } });
}

/**
 * HTTP, Koa, mysql2 and ioredis spans. These patch a module as it is loaded: modules already loaded
 * when telemetry starts are not patched (main.ts starts it before it loads the app). mysql2 is
 * required by knex, so the require hook sees it; ioredis and koa need the import hook above.
 */
async function loadInstrumentations(): Promise<Instrumentation[]> {
  const [{ registerInstrumentations }, { HttpInstrumentation }, { KoaInstrumentation }, { MySQL2Instrumentation }, { IORedisInstrumentation }] = await Promise.all([
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-koa'),
    import('@opentelemetry/instrumentation-mysql2'),
    import('@opentelemetry/instrumentation-ioredis'),
  ]);
  // The request span (inRequestSpan) is the server span, named by route: http's would be a second
  // server span for the same request, beside it. Outgoing node:http calls still get client spans.
  const instrumentations: Instrumentation[] = [new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }), new KoaInstrumentation(), new MySQL2Instrumentation(), new IORedisInstrumentation()];
  registerInstrumentations({ instrumentations });
  return instrumentations;
}
