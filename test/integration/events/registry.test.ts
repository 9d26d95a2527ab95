import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { FlagStore } from '../../../src/platform/flags.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/wait.ts';
import { envelope, startHiring, type HiringApp } from '../hiring/hiringApp.ts';

describe('event registry over HTTP: schemas, validation, flags, OpenAPI', function () {
  this.timeout(60_000);
  let app: HiringApp;
  before(async () => {
    app = await startHiring();
  });
  after(async () => {
    await app.stop();
  });

  it('GET /schemas lists every event with its versions and topic', async () => {
    const res = await app.get('/schemas');
    expect(res.status).to.equal(200);
    const byName = new Map((res.body.events as { name: string; versions: number[]; topic: string }[]).map((e) => [e.name, e]));
    expect(byName.get('ExerciseCompleted')).to.deep.equal({ name: 'ExerciseCompleted', versions: [0, 1], topic: 'domain.candidate_attempt' });
    expect(byName.get('ExerciseCreated')).to.deep.equal({ name: 'ExerciseCreated', versions: [0], topic: 'datarep.exercise' });
    expect(byName.get('ReviewerAssigned')?.versions).to.deep.equal([0, 1]);
    for (const name of ['AddNewDonate', 'ReceiveMoney', 'ListingPublished', 'AccountLinked', 'NotificationSeen', 'ExerciseFailed', 'ExerciseUpdated']) expect(byName.has(name), name).to.equal(true);
  });

  it('GET /schemas/:name/:version serves the committed document; unknown ones are 404 unknown_schema', async () => {
    const res = await app.get('/schemas/ExerciseCompleted/0');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal(JSON.parse(readFileSync('schemas/ExerciseCompleted/v0.json', 'utf8')));
    expect(res.body.title).to.equal('ExerciseCompletedEnvelope');
    expect((await app.get('/schemas/ReviewerAssigned/1')).body.$defs.ReviewerAssigned.properties).to.not.have.property('reviewer_email');
    for (const path of ['/schemas/ExerciseCompleted/2', '/schemas/Nope/0', '/schemas/ExerciseCompleted/abc', '/schemas/ExerciseCompleted/01']) {
      const miss = await app.get(path);
      expect(miss.status, path).to.equal(404);
      expect(miss.body.code, path).to.equal('unknown_schema');
    }
  });

  it('POST /schemas/:name/:version/validate answers {valid, errors: [{path, message}]}', async () => {
    const good = envelope('ExerciseCompleted', 1, { exercise_id: 'e', title: 't', author_id: 'a', candidate_id: 'c', completed_at: 'x', knowledge_area: null });
    expect((await app.post('/schemas/ExerciseCompleted/1/validate', good)).body).to.deep.equal({ success: true, valid: true, errors: [] });
    const wrongVersion = await app.post('/schemas/ExerciseCompleted/0/validate', good);
    expect(wrongVersion.body.valid).to.equal(false);
    expect(wrongVersion.body.errors.map((e: { path: string }) => e.path)).to.include('event_version');
    const bad = await app.post('/schemas/ExerciseCompleted/1/validate', { ...good, payload: { title: 5 } });
    expect(bad.status).to.equal(200);
    expect(bad.body.valid).to.equal(false);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).to.include.members(['payload.title', 'payload.candidate_id', 'payload.knowledge_area']);
    expect(bad.body.errors.every((e: { message: string }) => typeof e.message === 'string' && e.message.length > 0)).to.equal(true);
    expect((await app.post('/schemas/Nope/1/validate', good)).status).to.equal(404);
  });

  it('flags: HTTP Basic; event version flags take published versions only; another process sees a change within 1 s', async () => {
    expect((await app.get('/admin/flags')).status).to.equal(401);
    expect((await app.put('/admin/flags/x', { value: 1 })).status).to.equal(401);
    const listed = await app.get('/admin/flags', app.admin);
    expect(listed.status).to.equal(200);
    expect(listed.body.flags).to.deep.include({ name: 'events.ExerciseCompleted.version', value: 0, updated_at: null, default: true });

    for (const [name, value] of [['events.ExerciseCompleted.version', 7], ['events.ExerciseCompleted.version', 'one'], ['events.Nope.version', 0], ['events.ExerciseCreated.version', 1]] as const) {
      const res = await app.setFlag(name, value);
      expect(res.status, `${name}=${value}`).to.equal(400);
      expect(res.body.code).to.equal('bad_flag_value');
    }
    expect((await app.put('/admin/flags/x', { value: { nested: 1 } }, app.admin)).status).to.equal(400);
    expect((await app.setFlag('ui.banner', true)).body).to.deep.equal({ success: true, name: 'ui.banner', value: true });

    // Another process: its own cache with a long TTL, so only the Redis nudge can make it see the change.
    const redis = new Redis(TEST_REDIS);
    const other = new FlagStore(app.database.db, redis, `${app.prefix}:flags`, 60_000, app.running.services.log, () => new Redis(TEST_REDIS));
    try {
      expect(await other.get('events.ReviewerAssigned.version')).to.equal(undefined);
      await new Promise((r) => setTimeout(r, 200)); // its subscription is up
      const started = Date.now();
      expect((await app.setFlag('events.ReviewerAssigned.version', 1)).status).to.equal(200);
      await waitFor(async () => (await other.get('events.ReviewerAssigned.version')) === 1, { timeoutMs: 1000, intervalMs: 20, what: 'flag change in another process' });
      expect(Date.now() - started).to.be.below(1000);
    } finally {
      other.close();
      redis.disconnect();
    }
    const after = await app.get('/admin/flags', app.admin);
    expect(after.body.flags.find((f: { name: string }) => f.name === 'events.ReviewerAssigned.version')).to.include({ value: 1, default: false });
  });

  it('every new route is in the OpenAPI document', async () => {
    const doc = (await app.get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const want: [string, string][] = [
      ['/schemas', 'get'], ['/schemas/{name}/{version}', 'get'], ['/schemas/{name}/{version}/validate', 'post'],
      ['/hiring/exercises', 'post'], ['/hiring/exercises/{id}', 'put'], ['/api/v0/exercise/{id}', 'get'],
      ['/hiring/exercises/{id}/complete', 'post'], ['/hiring/exercises/{id}/fail', 'post'], ['/hiring/candidates/{id}/progress', 'get'],
      ['/admin/flags', 'get'], ['/admin/flags/{name}', 'put'],
    ];
    for (const [path, method] of want) expect(doc.paths[path]?.[method], `${method} ${path}`).to.be.an('object');
  });
});
