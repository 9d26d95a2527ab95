import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Every metric Conveyor exports, in one registry per process (tests make their own). */
export function createMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry });
  const r = [registry];
  return {
    registry,
    httpRequests: new Counter({ name: 'conveyor_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: r }),
    httpDuration: new Histogram({ name: 'conveyor_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'], buckets: LATENCY_BUCKETS, registers: r }),
    jobsProcessed: new Counter({ name: 'conveyor_jobs_processed_total', help: 'Jobs finished by queue and outcome (completed, retry, failed, invalid, duplicate)', labelNames: ['queue', 'outcome'], registers: r }),
    jobDuration: new Histogram({ name: 'conveyor_job_duration_seconds', help: 'Processor run time', labelNames: ['queue'], buckets: LATENCY_BUCKETS, registers: r }),
    jobWait: new Histogram({ name: 'conveyor_job_wait_seconds', help: 'Time from a job becoming ready to a worker taking it', labelNames: ['queue'], buckets: LATENCY_BUCKETS, registers: r }),
    queueJobs: new Gauge({ name: 'conveyor_queue_jobs', help: 'Jobs per queue and state, read at scrape time', labelNames: ['queue', 'state'], registers: r }),
    outboxBacklog: new Gauge({ name: 'conveyor_outbox_rows', help: 'Outbox rows not done, by status (pending, relayed, dead)', labelNames: ['status'], registers: r }),
    scrapeRefreshes: new Counter({ name: 'conveyor_scrape_gauge_refreshes_total', help: 'Times the scrape-time gauges (queue jobs, outbox rows) were recomputed; scrapes in between reuse them', registers: r }),
    outboxOldestAge: new Gauge({ name: 'conveyor_outbox_oldest_age_seconds', help: 'Age of the oldest outbox row not yet done', registers: r }),
    deliveries: new Counter({ name: 'conveyor_notify_deliveries_total', help: 'Seen-fact deliveries by consumer tag and outcome', labelNames: ['consumer', 'outcome'], registers: r }),
    deliveryAttempts: new Histogram({ name: 'conveyor_notify_delivery_attempts', help: 'Attempts a seen fact took to be delivered or given up', labelNames: ['consumer', 'outcome'], buckets: [1, 2, 3, 5, 8, 13, 21, 50, 100], registers: r }),
    deliveryLatency: new Histogram({ name: 'conveyor_notify_delivery_duration_seconds', help: 'Consumer call duration', labelNames: ['consumer'], buckets: LATENCY_BUCKETS, registers: r }),
    wsConnections: new Gauge({ name: 'conveyor_ws_connections', help: 'Open WebSocket connections', registers: r }),
    wsFrames: new Counter({ name: 'conveyor_ws_frames_sent_total', help: 'Frames sent by event type', labelNames: ['type'], registers: r }),
    wsDrops: new Counter({ name: 'conveyor_ws_drops_total', help: 'Sockets closed by the server, by reason', labelNames: ['reason'], registers: r }),
    wsFanoutLatency: new Histogram({ name: 'conveyor_ws_fanout_seconds', help: 'Event produced to frame written', buckets: LATENCY_BUCKETS, registers: r }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
