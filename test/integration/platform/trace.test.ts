import { expect } from 'chai';
import { rowsOfEvents } from '../../../scripts/chaos/outboxState.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { waitFor } from '../../helpers/wait.ts';
import { actor, quiescent, topUp, GENEROUS_LIMITS, type Actor } from '../chat/chatApp.ts';

interface Line {
  msg: string;
  queue?: string;
  request_id?: string | null;
  traceparent?: string;
  outbox_id?: number | string;
  event_id?: string;
  fact_event_id?: string;
  job_id?: string;
}

/** Every line the app logs, parsed, in process: the app's logger writes here at debug. */
function capturingLogger() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

interface TracedJob {
  id?: string;
  name: string;
  data: { request_id?: string; traceparent?: string; outbox_id?: string; outbox_ids?: string[]; request_ids?: (string | null)[] };
}

describe('a request is followed into its jobs: request id and traceparent in every hop (real MySQL and Redis)', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  let lines: Line[];
  let consumer: ConsumerServer;

  before(async () => {
    consumer = await new ConsumerServer().start();
    const captured = capturingLogger();
    lines = captured.lines;
    app = await startConveyor({
      // No poll racing the commits' wakes: each wake job is the one its commit added.
      env: { ...GENEROUS_LIMITS, OUTBOX_POLL: '30s' },
      log: captured.log,
      integrations: parseIntegrations({ promotions: { delivery: 'http', url: `${consumer.url}/v1/seen`, timeout_ms: 300, max_attempts: 3, backoff: { delay_ms: 100, max_delay_ms: 200, jitter: 0 } } }),
    });
  });
  after(async () => {
    await app.stop();
    await consumer.stop();
  });

  const jobsOf = async (queue: string): Promise<TracedJob[]> =>
    ((await app.running.services.queues.get(queue).getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'])) as TracedJob[]).filter(Boolean);

  it('one donation: its outbox rows, the jobs of every hop and a log line per hop carry its request id and traceparent', async () => {
    const admin: Actor = await actor(app, 'admin');
    const model = await actor(app, 'model', 'Mila');
    const viewer = await actor(app, 'client', 'Ann');
    await topUp(app, admin, viewer, '100.00');
    await quiescent(app.running.services.db);
    const [{ before }] = (await app.running.services.db('outbox').max({ before: 'id' })) as { before: number | null }[] as [{ before: number | null }];

    const requestId = `trace-${randomUUID()}`;
    const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
    const res = await app.post('/chat/donat/add', { room: model.uuid, sum: '12.50' }, { ...viewer.auth, 'x-request-id': requestId, traceparent });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.headers.get('x-request-id')).to.equal(requestId);
    await quiescent(app.running.services.db);

    // Every row the donation caused, the listeners' rows written inside jobs included.
    const rows = (await app.running.services.db('outbox').where('id', '>', before ?? 0).orderBy('id').select('id', 'queue', 'request_id', 'traceparent')) as { id: number; queue: string; request_id: string | null; traceparent: string | null }[];
    const queues = [...new Set(rows.map((r) => r.queue))];
    // The donation hop and the listener hops of what its jobs published.
    expect(queues).to.include.members(['chat.transfer-money', 'chat.update-goal', 'chat.calculate-sponsor', 'chat.save-sponsor']);
    for (const row of rows) expect(row, `row ${row.id} (${row.queue})`).to.include({ request_id: requestId, traceparent });

    for (const queue of queues) {
      const jobs = new Map((await jobsOf(queue)).map((j) => [j.id, j]));
      for (const row of rows.filter((r) => r.queue === queue)) {
        // The row is handled in a job whose line names the row and its request.
        const handled = lines.filter((l) => l.queue === queue && l.msg === 'outbox row handled' && String(l.outbox_id) === String(row.id));
        expect(handled, `${queue} row ${row.id} handled`).to.not.have.length(0);
        for (const line of handled) {
          expect(line).to.include({ request_id: requestId, traceparent });
          // A job relayed from the row, or the wake job the commit that wrote it added (the poll,
          // which wakes for no request, is off here): its data carries the request.
          const job = jobs.get(line.job_id);
          expect(job, `${queue} job ${line.job_id}`).to.not.equal(undefined);
          expect(job!.data, `${queue} job ${job!.id}`).to.include({ request_id: requestId, traceparent });
        }
      }
      // And the job's own lines carry it.
      expect(lines.some((l) => l.queue === queue && l.msg === 'job started' && l.request_id === requestId), `${queue} job started line`).to.equal(true);
    }
    // The request's own line.
    expect(lines.some((l) => l.msg === 'request' && l.request_id === requestId)).to.equal(true);
  });

  it('rows of a batch from several requests: each row is logged with its own request id', async () => {
    const admin: Actor = await actor(app, 'admin');
    const model = await actor(app, 'model', 'Nia');
    const viewers = await Promise.all([0, 1, 2].map(() => actor(app, 'client')));
    for (const v of viewers) await topUp(app, admin, v, '50.00');
    await quiescent(app.running.services.db);
    const requests = viewers.map(() => `many-${randomUUID()}`);
    const answers = await Promise.all(viewers.map((v, i) => app.post('/chat/donat/add', { room: model.uuid, sum: '1.00' }, { ...v.auth, 'x-request-id': requests[i]! })));
    expect(answers.map((a) => a.status), JSON.stringify(answers.map((a) => a.body))).to.deep.equal([201, 201, 201]);
    await quiescent(app.running.services.db);
    // Each donation's event, alone in its row or in its group commit's event batch row, is logged
    // with its own request: per row when the row serves one request, per event when several.
    const donations = answers.map((a) => a.body.donation_id as string);
    const carried = await rowsOfEvents(app.running.services.db, 'chat.transfer-money', donations);
    expect(carried.map((c) => c.event_id).sort()).to.deep.equal([...donations].sort());
    for (const { event_id, id } of carried) {
      const request = requests[donations.indexOf(event_id)];
      const line = lines.find((l) => l.msg === 'outbox row handled' && String(l.outbox_id) === String(id) && (l.event_id === undefined || l.event_id === event_id));
      expect(line, `donation ${event_id} in row ${id}`).to.not.equal(undefined);
      expect(line!.request_id).to.equal(request);
    }
    // A listener row written for one of these requests is logged with it.
    const rows = (await app.running.services.db('outbox').whereIn('request_id', requests).where('queue', 'chat.update-goal').select('id', 'request_id')) as { id: number; request_id: string }[];
    for (const row of rows) {
      const line = lines.find((l) => l.msg === 'outbox row handled' && String(l.outbox_id) === String(row.id));
      expect(line!.request_id, `row ${row.id}`).to.equal(row.request_id);
    }
  });

  it('a mark-notify seen: the batch job lists its request, its line names it, a retry job of the fact carries it', async () => {
    const requestId = `seen-${randomUUID()}`;
    let calls = 0;
    consumer.choose = () => (++calls === 1 ? 500 : 200);
    const res = await app.post('/4.0/mark-notify/v1/seen', { tag: 'promotions', id: `p-${randomUUID()}` }, { 'x-request-id': requestId });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const eventId = res.body.event_id as string;
    await waitFor(async () => (await app.running.services.queues.get('notify.deliver-seen').getJobState(eventId)) === 'completed', { what: 'the retried fact delivered' });

    const [batch] = (await jobsOf('notify.deliver-seen-batch')).filter((j) => j.id === eventId);
    expect(batch!.data.request_ids).to.deep.equal([requestId]);
    expect(lines.some((l) => l.queue === 'notify.deliver-seen-batch' && l.msg === 'seen fact handled' && l.fact_event_id === eventId && l.request_id === requestId)).to.equal(true);
    const single = (await jobsOf('notify.deliver-seen')).find((j) => j.id === eventId);
    expect(single!.data.request_id).to.equal(requestId);
    expect(lines.some((l) => l.queue === 'notify.deliver-seen' && l.msg === 'job started' && l.request_id === requestId)).to.equal(true);
  });
});
