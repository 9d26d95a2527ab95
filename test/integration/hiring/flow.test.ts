import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { waitFor } from '../../helpers/wait.ts';
import { envelope, EXERCISES_SERVICE, startHiring, type HiringApp } from './hiringApp.ts';

describe('hiring: exercises, attempts, progress and COMM-030 through events', function () {
  this.timeout(60_000);
  let app: HiringApp;
  before(async () => {
    app = await startHiring();
  });
  after(async () => {
    await app.stop();
  });

  const db = () => app.database.db;
  const count = async (table: string) => Number(((await db()(table).count({ n: '*' })) as { n: number }[])[0]!.n);
  const progress = async (candidate: string, headers: Record<string, string>) => {
    const res = await app.get(`/hiring/candidates/${candidate}/progress`, headers);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as { completed: { exercise_id: string; title: string; knowledge_area: string | null; completed_at: string }[]; failed: unknown[]; reviewer_id: string | null };
  };

  async function newExercise(author: { headers: Record<string, string> }, title = 'Two sum') {
    const res = await app.post('/hiring/exercises', { title, content: 'Find two numbers' }, author.headers);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.exercise_id as string;
  }

  it('an author creates and changes an exercise; the hiring replica follows the CUD stream; the pull endpoint answers', async () => {
    const author = await app.as('author');
    const id = await newExercise(author);
    await waitFor(async () => (await db()('hiring_exercises').where('exercise_id', id).first()) !== undefined, { what: 'replica row' });
    const put = await app.put(`/hiring/exercises/${id}`, { title: 'Three sum', content: 'Now three' }, author.headers);
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    await waitFor(async () => (await db()('hiring_exercises').where('exercise_id', id).first())?.title === 'Three sum', { what: 'replica update' });

    const candidate = await app.as('candidate');
    const pulled = await app.get(`/api/v0/exercise/${id}`, candidate.headers);
    expect(pulled.status).to.equal(200);
    expect(pulled.body).to.include({ exercise_id: id, title: 'Three sum', content: 'Now three', author_id: author.sub });
    expect(pulled.body.updated_at).to.equal(put.body.updated_at);

    const other = await app.as('author');
    const refused = await app.put(`/hiring/exercises/${id}`, { title: 'Mine', content: 'x' }, other.headers);
    expect(refused.status).to.equal(403);
    expect(refused.body.code).to.equal('not_author');
    expect((await app.put(`/hiring/exercises/${randomUUID()}`, { title: 'x', content: 'x' }, author.headers)).status).to.equal(404);
    expect((await app.get(`/api/v0/exercise/${randomUUID()}`, candidate.headers)).body.code).to.equal('unknown_exercise');
  });

  it('refuses the roles API.md does not name, and bad input with nothing written', async () => {
    const author = await app.as('author');
    const candidate = await app.as('candidate');
    const client = await app.as('client');
    const id = await newExercise(author);
    expect((await app.post('/hiring/exercises', { title: 't', content: 'c' }, candidate.headers)).status).to.equal(403);
    expect((await app.post(`/hiring/exercises/${id}/complete`, {}, author.headers)).status).to.equal(403);
    expect((await app.post(`/hiring/exercises/${id}/fail`, {}, await app.as('manager').then((m) => m.headers))).status).to.equal(403);
    expect((await app.get(`/api/v0/exercise/${id}`, client.headers)).status).to.equal(403);
    expect((await app.get(`/hiring/candidates/${candidate.sub}/progress`, (await app.as('candidate')).headers)).status).to.equal(403);
    expect((await app.post('/hiring/exercises', { title: 't', content: 'c' })).status).to.equal(401);

    const before = { exercises: await count('exercises'), outbox: await count('outbox') };
    for (const body of [{ title: '', content: 'c' }, { title: 't' }, { title: 't', content: 'c', extra: 1 }, { title: 5, content: 'c' }]) {
      const res = await app.post('/hiring/exercises', body, author.headers);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.code).to.equal('bad_params');
    }
    const badArea = await app.post(`/hiring/exercises/${id}/complete`, { knowledge_area: '' }, candidate.headers);
    expect(badArea.status).to.equal(400);
    expect((await app.post(`/hiring/exercises/${randomUUID()}/complete`, {}, candidate.headers)).status).to.equal(404);
    expect({ exercises: await count('exercises'), outbox: await count('outbox') }).to.deep.equal(before);
  });

  it('completions follow the flag (v0: knowledge_area null, v1: kept); a failure is recorded; at the threshold a manager is assigned (ReviewerAssigned v1: no PII)', async () => {
    const author = await app.as('author');
    const manager = await app.as('manager', randomUUID(), { name: 'Ann Manager', email: 'ann@example.com' });
    // Known on first sight of the token.
    expect((await app.get(`/api/v0/exercise/${randomUUID()}`, manager.headers)).status).to.equal(404);
    const candidate = await app.as('candidate');
    const [e1, e2, e3, e4] = [await newExercise(author, 'E1'), await newExercise(author, 'E2'), await newExercise(author, 'E3'), await newExercise(author, 'E4')];

    const c1 = await app.post(`/hiring/exercises/${e1}/complete`, { knowledge_area: 'algorithms' }, candidate.headers);
    expect(c1.status).to.equal(202);
    expect(c1.body.event_version).to.equal(0);
    expect((await app.setFlag('events.ExerciseCompleted.version', 1)).status).to.equal(200);
    expect((await app.setFlag('events.ReviewerAssigned.version', '1')).status).to.equal(200);
    const c2 = await app.post(`/hiring/exercises/${e2}/complete`, { knowledge_area: 'graphs' }, candidate.headers);
    expect(c2.body.event_version).to.equal(1);
    const c3 = await app.post(`/hiring/exercises/${e3}/complete`, {}, candidate.headers);
    expect(c3.body.event_version).to.equal(1);
    expect((await app.post(`/hiring/exercises/${e4}/fail`, {}, candidate.headers)).status).to.equal(202);

    const got = await waitFor(async () => {
      const p = await progress(candidate.sub, manager.headers);
      return p.completed.length === 3 && p.failed.length === 1 && p.reviewer_id ? p : null;
    }, { what: 'progress with reviewer' });
    expect(got.completed.map((c) => [c.exercise_id, c.title, c.knowledge_area])).to.deep.equal([
      [e1, 'E1', null],
      [e2, 'E2', 'graphs'],
      [e3, 'E3', null],
    ]);
    expect(got.reviewer_id).to.equal(manager.sub);
    expect(await progress(candidate.sub, candidate.headers)).to.deep.equal(got);
    const adminToken = await app.as('admin');
    expect((await app.get(`/hiring/candidates/${candidate.sub}/progress`, adminToken.headers)).status).to.equal(200);

    const assigned = await db()('outbox').where('event_name', 'ReviewerAssigned').first();
    expect(assigned.payload_version).to.equal(1);
    expect(JSON.parse(assigned.payload)).to.not.have.property('reviewer_email');
    // A fourth completion does not assign again.
    await app.post(`/hiring/exercises/${e4}/complete`, {}, candidate.headers);
    await waitFor(async () => (await progress(candidate.sub, manager.headers)).completed.length === 4);
    const events = await db()('outbox').where('event_name', 'ReviewerAssigned').distinct('event_id');
    expect(events).to.have.length(1);
  });

  it('ReviewerAssigned v0 carries the manager name and e-mail; the hiring side keeps the id only', async () => {
    expect((await app.setFlag('events.ReviewerAssigned.version', 0)).status).to.equal(200);
    await new Promise((r) => setTimeout(r, 600));
    const author = await app.as('author');
    const candidate = await app.as('candidate');
    for (let i = 0; i < 3; i++) {
      const id = await newExercise(author, `R${i}`);
      expect((await app.post(`/hiring/exercises/${id}/complete`, {}, candidate.headers)).status).to.equal(202);
    }
    const admin = await app.as('admin');
    const p = await waitFor(async () => ((await progress(candidate.sub, admin.headers)).reviewer_id ? await progress(candidate.sub, admin.headers) : null), { what: 'reviewer' });
    const rows = await db()('outbox').where('event_name', 'ReviewerAssigned').where('payload_version', 0);
    const v0 = rows.map((r: { payload: string }) => JSON.parse(r.payload) as Record<string, unknown>).find((x) => x.candidate_id === candidate.sub)!;
    expect(v0.reviewer_id).to.equal(p.reviewer_id);
    expect(v0).to.have.property('reviewer_name');
    expect(v0).to.have.property('reviewer_email');
    const cols = Object.keys((await db()('hiring_reviewers').where('candidate_id', candidate.sub).first()) as object);
    expect(cols).to.not.include('reviewer_email');
  });

  it('POST /events takes exercise events from outside at the door: 400 names the field, unknown_schema for a name or version, nothing written', async () => {
    const service = await app.as('service', EXERCISES_SERVICE);
    const candidate = randomUUID();
    const before = await count('outbox');
    const bad = await app.post('/events', envelope('ExerciseCompleted', 0, { exercise_id: 'x', title: 't', author_id: 'a', completed_at: 'now' }), service.headers);
    expect(bad.status).to.equal(400);
    expect(bad.body.code).to.equal('invalid_payload');
    expect(bad.body.message).to.contain('payload.candidate_id');
    for (const [name, version] of [['ExerciseCompleted', 2], ['ExerciseExploded', 0], ['ReviewerAssigned', 1], ['AddNewDonate', 1]] as const) {
      const res = await app.post('/events', envelope(name, version, {}), service.headers);
      expect(res.status, `${name} v${version}`).to.equal(400);
      expect(res.body.code, `${name} v${version}`).to.equal('unknown_schema');
    }
    expect(await count('outbox')).to.equal(before);

    const v0 = envelope('ExerciseCompleted', 0, { exercise_id: 'outside-1', title: 'From outside', author_id: 'a', candidate_id: candidate, completed_at: '2026-01-01T00:00:00Z' });
    const ok = await app.post('/events', v0, service.headers);
    expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
    const admin = await app.as('admin');
    await waitFor(async () => (await progress(candidate, admin.headers)).completed.length === 1, { what: 'outside completion' });
    expect((await progress(candidate, admin.headers)).completed[0]).to.deep.equal({ exercise_id: 'outside-1', title: 'From outside', knowledge_area: null, completed_at: '2026-01-01T00:00:00Z' });
  });
});
