import { createServer, type Server } from 'node:http';
import type { Worker } from 'bullmq';
import { redisTarget, type Config, type Role } from './config.ts';
import { createApp } from './http/app.ts';
import { createRedis } from './platform/redis.ts';
import { OutboxReconciler } from '../queues/outbox/reconciler.ts';
import { closeServices, createServices, type ServiceOverrides, type Services } from './services.ts';
import { contracts, contractsByQueue } from '../queues/contracts/index.ts';
import { startWorker } from '../queues/consumer.ts';
import { Scheduler } from '../queues/scheduler.ts';
import { buildSchedules } from '../queues/schedules.ts';
import { processors } from '../jobs/index.ts';
import type { JobContract } from '../queues/contract.ts';
import type { Processor } from '../queues/processor.ts';

export interface Running {
  services: Services;
  server: Server | undefined;
  /** The port the HTTP server listens on (useful with PORT=0). */
  port: number;
  workers: Worker[];
  reconciler: OutboxReconciler | undefined;
  scheduler: Scheduler | undefined;
  stop(): Promise<void>;
}

/** Extra parts a role can bring (the ws server hooks into the HTTP server's upgrade event). */
export interface Extension {
  name: string;
  attach?(server: Server, services: Services): Promise<void> | void;
  close?(): Promise<void> | void;
}

export interface StartOptions extends ServiceOverrides {
  extensions?: Extension[];
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

function redisReady(redis: Services['redis'], ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.once('ready', done);
  });
}

/** Starts the given roles in this process; any number of processes may run any roles together. */
export async function start(config: Config, roles: Role[] = config.roles, opts: StartOptions = {}): Promise<Running> {
  // Imported only when an endpoint is set: without it no OpenTelemetry package is loaded.
  const ownTelemetry = !opts.telemetry && config.otel.endpoint ? await (await import('./platform/telemetry.ts')).startTelemetry({ serviceName: config.otel.serviceName, endpoint: config.otel.endpoint }) : undefined;
  const services = createServices(config, ownTelemetry ? { ...opts, telemetry: ownTelemetry } : opts);
  const { log } = services;
  for (const warning of config.warnings) log.warn(warning);
  const has = (role: Role) => roles.includes(role);

  let server: Server | undefined;
  let port = 0;
  const extensions = opts.extensions ?? [];
  if (has('api') || has('ws')) {
    // The producer connection fails fast (no offline queue): let it connect before the first
    // requests arrive, but start anyway if Redis is down (those requests answer 503).
    await Promise.all([redisReady(services.redis, 2_000), redisReady(services.queues.commandConnection(), 2_000)]);
    const app = createApp(services, { api: has('api') });
    server = createServer(app.callback());
    server.keepAliveTimeout = 65_000;
    for (const ext of extensions) await ext.attach?.(server, services);
    port = await listen(server, config.port, config.host);
    log.info({ port, roles }, 'http listening');
  }

  const workers: Worker[] = [];
  let reconciler: OutboxReconciler | undefined;
  const workerConnection = has('worker') ? createRedis(redisTarget(config), 'worker') : undefined;
  if (workerConnection) {
    workerConnection.on('error', (err) => log.warn({ err: err.message }, 'worker redis error'));
    for (const [name, contract] of Object.entries(contracts)) {
      const processor = processors[name as keyof typeof processors] as unknown as Processor<JobContract>;
      workers.push(startWorker(services, workerConnection, contract, processor));
    }
    reconciler = new OutboxReconciler(services.db, services.queues, contractsByQueue, log, {
      everyMs: config.outbox.reconcileMs,
      graceMs: config.outbox.reconcileGraceMs,
      batchSize: 500,
      clock: services.clock,
    });
    reconciler.start();
  }
  if (has('api') || has('worker')) services.outbox.start();
  // Requests answer 503 quickly while MySQL does not; workers' queries simply wait and retry.
  if (has('api')) services.dbWatch.start();

  let scheduler: Scheduler | undefined;
  if (has('scheduler')) {
    // Its first registration needs the queues' connection up (a cluster's takes a slot-map round trip).
    await redisReady(services.queues.commandConnection(), 5_000);
    scheduler = new Scheduler(services.queues, services.redis, buildSchedules(services), log, { tz: config.tz, checkEveryMs: config.schedulerCheckMs });
    await scheduler.start();
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down');
      // Order: stop taking work (HTTP, sockets), finish what is running (jobs), then close the pools.
      if (server) {
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        for (const ext of extensions) await ext.close?.();
        await closed;
      }
      scheduler?.stop();
      await Promise.all(workers.map((w) => w.close()));
      await reconciler?.stop();
      workerConnection?.disconnect();
      await closeServices(services);
      await ownTelemetry?.shutdown();
      log.info('stopped');
    })());

  return { services, server, port, workers, reconciler, scheduler, stop };
}
