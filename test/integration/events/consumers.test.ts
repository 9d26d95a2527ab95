import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ExerciseCompletedV0 } from '../../../src/domain/hiring/events.ts';
import { makeEnvelope } from '../../../queues/outbox/envelope.ts';
import { eventJobs, writeOutbox } from '../../../queues/outbox/writer.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import { envelope, EXERCISES_SERVICE, startHiring, type HiringApp } from '../hiring/hiringApp.ts';

describe('event consumers: out-of-order CUD, repeats, invalid events, topic streams, a flag flipped mid-stream', function () {
  this.timeout(90_000);
  let app: HiringApp;
  let service: Record<string, string>;
  before(async () => {
    app = await startHiring();
    service = (await app.as('service', EXERCISES_SERVICE)).headers;
  });
  after(async () => {
    await app.stop();
  });

  const db = () => app.database.db;
  /** Every outbox row of these events is done: each consumer took (or skipped) them. */
  const drained = (eventIds: string[]) =>
    waitFor(async () => Number(((await db()('outbox').whereIn('event_id', eventIds).whereNot('status', 'done').count({ n: '*' })) as { n: number }[])[0]!.n) === 0, {
      what: 'events consumed',
      timeoutMs: 20_000,
    });

  it('the replica keeps the newest state whatever order the CUD events arrive in', async () => {
    const id = `ex-${randomUUID()}`;
    const state = (title: string, updatedAt: string | null) => ({ exercise_id: id, title, content: 'c', author_id: 'a', created_at: '2026-03-01T10:00:00.000Z', updated_at: updatedAt });
    const sent = [
      envelope('ExerciseUpdated', 0, state('second', '2026-03-01T10:00:02.000Z')),
      envelope('ExerciseCreated', 0, state('created', null)),
      envelope('ExerciseUpdated', 0, state('first', '2026-03-01T10:00:01.000Z')),
    ];
    for (const e of sent) {
      const res = await app.post('/events', e, service);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      await drained([e.event_id]);
    }
    const row = await db()('hiring_exercises').where('exercise_id', id).first();
    expect(row).to.include({ title: 'second', updated_at: '2026-03-01T10:00:02.000Z' });

    // The other way round converges on the same state.
    const id2 = `ex-${randomUUID()}`;
    const s2 = (title: string, updatedAt: string | null) => ({ ...state(title, updatedAt), exercise_id: id2 });
    for (const e of [envelope('ExerciseCreated', 0, s2('created', null)), envelope('ExerciseUpdated', 0, s2('first', '2026-03-01T10:00:01.000Z')), envelope('ExerciseUpdated', 0, s2('second', '2026-03-01T10:00:02.000Z'))]) {
      await app.post('/events', e, service);
      await drained([e.event_id]);
    }
    expect(await db()('hiring_exercises').where('exercise_id', id2).first()).to.include({ title: 'second' });
  });

  it('a consumer skips an event whose (event_id, produced_at) it took before, even from a second outbox row', async () => {
    const candidate = randomUUID();
    const e = makeEnvelope(ExerciseCompletedV0, { exercise_id: 'dup', title: 'Dup', author_id: 'a', candidate_id: candidate, completed_at: '2026-03-01T00:00:00Z' });
    // The same event written twice (a producer retry past the door's event_id check, a replay).
    await app.running.services.outbox.transaction((trx) => writeOutbox(trx, eventJobs(ExerciseCompletedV0, e)));
    await app.running.services.outbox.transaction((trx) => writeOutbox(trx, eventJobs(ExerciseCompletedV0, e)));
    await drained([e.event_id]);
    expect(await db()('hiring_attempts').where('candidate_id', candidate)).to.have.length(1);
    expect(((await db()('candidate_completions').where('candidate_id', candidate).first()) as { completed: number }).completed).to.equal(1);
    // The same id with another produced_at is another event (the seed's pair).
    const again = { ...e, produced_at: new Date(Date.parse(e.produced_at) + 1000).toISOString() };
    await app.running.services.outbox.transaction((trx) => writeOutbox(trx, eventJobs(ExerciseCompletedV0, again)));
    await drained([e.event_id]);
    expect(await db()('hiring_attempts').where('candidate_id', candidate)).to.have.length(2);
  });

  it('an event that fails validation at the consumer fails at once, without retry (UnrecoverableError)', async () => {
    const bad = envelope('ExerciseCompleted', 0, { exercise_id: 'x', title: 'x', author_id: 'a', completed_at: 'now' });
    // Written past the door and the producer check, as a buggy or older producer might.
    await app.running.services.outbox.transaction((trx) =>
      writeOutbox(trx, [{ queue: 'hiring.record-attempt', payload: bad, version: 0, eventId: bad.event_id, envelope: true }]),
    );
    const row = (await db()('outbox').where('event_id', bad.event_id).first()) as { id: number };
    const queue = app.running.services.queues.get('hiring.record-attempt');
    await waitFor(async () => (await queue.getJob(`ob-${row.id}`))?.finishedOn !== undefined && (await queue.getJobState(`ob-${row.id}`)) === 'failed', { what: 'failed job' });
    // Read it again once failed: a copy read earlier lacks its reason and counters.
    const job = (await queue.getJob(`ob-${row.id}`))!;
    expect(job.attemptsMade).to.equal(1);
    expect(job.failedReason).to.match(/invalid payload/).and.match(/candidate_id/);
    expect(((await db()('outbox').where('id', row.id).first()) as { status: string }).status).to.not.equal('done');
  });

  it('an event valid by its schema that cannot be stored (an outside id longer than the column) fails without retry', async () => {
    const e = envelope('ExerciseFailed', 0, { exercise_id: 'x'.repeat(300), title: 't', author_id: 'a', candidate_id: randomUUID(), failed_at: 'now' });
    expect((await app.post('/events', e, service)).status).to.equal(200);
    const row = (await db()('outbox').where({ event_id: e.event_id, queue: 'hiring.record-attempt' }).first()) as { id: number };
    const queue = app.running.services.queues.get('hiring.record-attempt');
    await waitFor(async () => (await queue.getJob(`ob-${row.id}`))?.finishedOn !== undefined && (await queue.getJobState(`ob-${row.id}`)) === 'failed', { what: 'failed job' });
    // Read it again once failed: a copy read earlier lacks its reason and counters.
    const job = (await queue.getJob(`ob-${row.id}`))!;
    expect(job.failedReason, JSON.stringify({ made: job.attemptsMade, started: job.attemptsStarted })).to.match(/cannot be stored/);
    expect(job.attemptsMade).to.equal(1);
  });

  it('appends each topic to its Redis stream in commit order per aggregate, readable with consumer groups', async () => {
    const author = await app.as('author');
    const created = await app.post('/hiring/exercises', { title: 'v0', content: 'c' }, author.headers);
    const id = created.body.exercise_id as string;
    for (let i = 1; i <= 5; i++) expect((await app.put(`/hiring/exercises/${id}`, { title: `v${i}`, content: 'c' }, author.headers)).status).to.equal(200);
    const candidate = await app.as('candidate');
    await app.post(`/hiring/exercises/${id}/complete`, {}, candidate.headers);

    const redis = new Redis(TEST_REDIS);
    try {
      const stream = `${app.prefix}:topic:datarep.exercise`;
      // Earlier tests append to the same stream: wait for this exercise's own six entries.
      const ownEntries = async () => (await redis.xrange(stream, '-', '+')).filter(([, fields]) => fields.some((v) => v.includes(id))).length;
      await waitFor(async () => (await ownEntries()) >= 6, { what: 'stream entries of this exercise' });
      await redis.xgroup('CREATE', stream, 'replicas', '0', 'MKSTREAM');
      const read = (await redis.xreadgroup('GROUP', 'replicas', 'r1', 'COUNT', 1000, 'STREAMS', stream, '>')) as [string, [string, string[]][]][];
      const entries = read[0]![1].map(([, fields]) => Object.fromEntries(fields.reduce<[string, string][]>((acc, v, i, a) => (i % 2 ? acc : [...acc, [v, a[i + 1]!]]), [])));
      const mine = entries.filter((e) => (JSON.parse(e.payload!) as { exercise_id: string }).exercise_id === id);
      expect(mine.map((e) => (JSON.parse(e.payload!) as { title: string }).title)).to.deep.equal(['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
      expect(mine.map((e) => e.event_name)).to.deep.equal(['ExerciseCreated', ...Array(5).fill('ExerciseUpdated')]);
      expect(mine[0]).to.include.keys('event_id', 'event_version', 'produced_at');
      await redis.xack(stream, 'replicas', ...read[0]![1].map(([entryId]) => entryId));
      const attempts = `${app.prefix}:topic:domain.candidate_attempt`;
      await waitFor(async () => (await redis.xlen(attempts)) >= 1, { what: 'candidate_attempt stream' });
    } finally {
      redis.disconnect();
    }
  });

  it('a flag flipped mid-stream loses nothing: every completion is recorded once, in the version it was sent', async () => {
    const author = await app.as('author');
    const candidate = await app.as('candidate');
    const ex = (await app.post('/hiring/exercises', { title: 'Flip', content: 'c' }, author.headers)).body.exercise_id as string;
    const sends: Promise<{ status: number; body: { event_version: number; event_id: string } }>[] = [];
    for (let i = 0; i < 40; i++) {
      sends.push(app.post(`/hiring/exercises/${ex}/complete`, { knowledge_area: `area-${i}` }, candidate.headers));
      if (i % 10 === 5) await app.setFlag('events.ExerciseCompleted.version', Math.floor(i / 10) % 2 === 0 ? 1 : 0);
      await new Promise((r) => setTimeout(r, 30));
    }
    const answers = await Promise.all(sends);
    expect(answers.every((a) => a.status === 202)).to.equal(true);
    const versions = answers.map((a) => a.body.event_version);
    expect(versions).to.include(0);
    expect(versions).to.include(1);
    await drained(answers.map((a) => a.body.event_id));
    const rows = (await db()('hiring_attempts').where('candidate_id', candidate.sub).orderBy('id')) as { event_id: string; knowledge_area: string }[];
    expect(rows.map((r) => r.event_id).sort()).to.deep.equal(answers.map((a) => a.body.event_id).sort());
    const byEvent = new Map(rows.map((r) => [r.event_id, r.knowledge_area]));
    answers.forEach((a, i) => expect(byEvent.get(a.body.event_id)).to.equal(a.body.event_version === 1 ? `area-${i}` : ''));
    expect(((await db()('candidate_completions').where('candidate_id', candidate.sub).first()) as { completed: number }).completed).to.equal(40);
  });
});
