import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { waitFor } from '../../helpers/wait.ts';
import { bonusContracts } from '../../../queues/contracts/bonus.ts';
import { envelope, goodListing, settled, startBonus, stateOf, waitForState, type BonusApp } from './bonusApp.ts';

describe('bonus: ingest on POST /events and the bonus.ingest queue', function () {
  this.timeout(30_000);
  let app: BonusApp;

  before(async () => {
    app = await startBonus();
  });

  after(async () => {
    await app.stop();
  });

  const db = () => app.database.db;
  const count = async (table: string) => Number(((await db()(table).count({ n: '*' })) as { n: number }[])[0]!.n);
  const ingest = () => app.running.services.queues.get('bonus.ingest');

  async function finished(job: Job): Promise<Job> {
    await waitFor(async () => ['completed', 'failed'].includes(await job.getState()), { what: `ingest job ${job.id}` });
    // Read the job again: a copy read before it finished lacks its reason and counters.
    return (await ingest().getJob(job.id!))!;
  }

  it('refuses callers without a service token', async () => {
    const body = envelope('AccountLinked', { user_id: 'u', yandex_uid: 'y' });
    expect((await app.post('/events', body)).status).to.equal(401);
    const client = await app.authFor(randomUUID());
    const res = await app.post('/events', body, client);
    expect(res.status).to.equal(403);
    expect(res.body.code).to.equal('forbidden_role');
  });

  it('rejects unknown events, unknown versions, invalid payloads and bad envelopes with clear codes, recording nothing', async () => {
    const before = { processed: await count('processed_events'), outbox: await count('outbox') };
    const u = randomUUID();
    const cases: [unknown, string][] = [
      [envelope('ListingSold', goodListing(u, 'L1')), 'unknown_schema'],
      [envelope('ListingPublished', goodListing(u, 'L1'), { version: 2 }), 'unknown_schema'],
      [envelope('ListingPublished', { ...goodListing(u, 'L1'), photos_count: -1 }), 'invalid_payload'],
      [envelope('ListingPublished', { ...goodListing(u, 'L1'), colour: 'red' }), 'invalid_payload'],
      [envelope('ListingBanned', { listing_id: 'L1', user_id: u }), 'invalid_payload'],
      [envelope('AccountLinked', { user_id: u, yandex_uid: '' }), 'invalid_payload'],
      [{ ...envelope('AccountLinked', { user_id: u, yandex_uid: 'y' }), extra: 1 }, 'bad_params'],
      [{ event_name: 'AccountLinked', event_version: 1, produced_at: new Date().toISOString(), payload: {} }, 'bad_params'],
      [envelope('AccountLinked', { user_id: u, yandex_uid: 'y' }, { producedAt: 'yesterday' }), 'bad_params'],
    ];
    for (const [body, code] of cases) {
      const res = await app.post('/events', body, app.service);
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.code, JSON.stringify(res.body)).to.equal(code);
    }
    const invalid = await app.post('/events', cases[2]![0], app.service);
    expect(invalid.body.details.problems.join()).to.match(/photos_count/);
    const unknown = await app.post('/events', cases[0]![0], app.service);
    expect(unknown.body.details.known).to.include.members(['ListingPublished', 'ListingUpdated', 'ListingBanned', 'AccountLinked']);
    expect(await count('processed_events')).to.equal(before.processed);
    expect(await count('outbox')).to.equal(before.outbox);
    expect(await stateOf(db(), u)).to.equal(undefined);
  });

  it('deduplicates by event_id, also under concurrent repeats, and refuses an id reused for another payload', async () => {
    const u = randomUUID();
    const body = envelope('ListingPublished', goodListing(u, 'L1'));
    const answers = await Promise.all(Array.from({ length: 10 }, () => app.post('/events', body, app.service)));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(10).fill(200));
    expect(answers.filter((a) => a.body.duplicate === false)).to.have.length(1);
    expect(answers.every((a) => a.body.event_id === body.event_id)).to.equal(true);
    // One row per listener: the user's actor and the topic stream (domain.bonus).
    const rows = (await db()('outbox').where('event_id', body.event_id).orderBy('id')) as { queue: string }[];
    expect(rows.map((r) => r.queue)).to.deep.equal(['bonus.apply-event', 'events.topic-append']);

    // Reordered fields are the same event; another payload under the same id is not.
    const reordered = { payload: body.payload, produced_at: body.produced_at, event_version: 1, event_name: body.event_name, event_id: body.event_id };
    expect((await app.post('/events', reordered, app.service)).body.duplicate).to.equal(true);
    const reused = await app.post('/events', { ...body, payload: goodListing(u, 'L2') }, app.service);
    expect(reused.status).to.equal(409);
    expect(reused.body.code).to.equal('event_id_reused');

    await settled(db());
    const state = await stateOf(db(), u);
    expect(state).to.deep.include({ state: 'holding', listing_id: 'L1' });
    const notices = await db()('notifications').where('user_id', u);
    expect(notices).to.have.length(1);
  });

  it('applies a valid event from the ingest queue, and treats its repeat over HTTP as a duplicate', async () => {
    const u = randomUUID();
    const body = envelope('ListingPublished', goodListing(u, 'Q1'));
    const job = await ingest().add('bonus.ingest', { v: 1, payload: body });
    const done = await finished(job);
    expect(await done.getState()).to.equal('completed');
    expect(done.returnvalue).to.deep.equal({ duplicate: false });
    await waitForState(db(), u, 'holding');
    const again = await app.post('/events', body, app.service);
    expect(again.body.duplicate).to.equal(true);
    const repeat = await finished(await ingest().add('bonus.ingest', { v: 1, payload: body }));
    expect(repeat.returnvalue).to.deep.equal({ duplicate: true });
  });

  it('takes a price as a decimal string, as money elsewhere; a bad price gets one plain error', async () => {
    const u = `u-${randomUUID()}`;
    const accepted = await app.post('/events', envelope('ListingPublished', goodListing(u, 'S1', { price: '12000.50' })), app.service);
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(200);
    await waitForState(db(), u, 'holding');
    for (const price of ['free', '-1', '1.234', 1e13, -5, true, '']) {
      const res = await app.post('/events', envelope('ListingPublished', goodListing(`u-${randomUUID()}`, 'S2', { price })), app.service);
      expect(res.status, String(price)).to.equal(400);
      expect(res.body.message, String(price)).to.include('price: must be a price: a number or a decimal string such as "1500.00"');
      expect(res.body.message).not.to.match(/anyOf|must be null/);
    }
  });

  it('dead-letters invalid queue events at once, with the reason, without retrying or applying them', async () => {
    const u = randomUUID();
    const before = await count('processed_events');
    const bad: [unknown, RegExp][] = [
      [{ v: 1, payload: envelope('ListingSold', goodListing(u, 'L1')) }, /^unknown_schema: unknown event "ListingSold"/],
      [{ v: 1, payload: envelope('ListingPublished', goodListing(u, 'L1'), { version: 7 }) }, /^unknown_schema: unknown version 7/],
      [{ v: 1, payload: envelope('ListingPublished', { ...goodListing(u, 'L1'), price: 'free' }) }, /^invalid_payload: .*price/],
      [{ v: 1, payload: { hello: 'world' } }, /^invalid payload: .*missing field "event_id"/],
      [{ nope: true }, /not a job envelope/],
    ];
    for (const [data, reason] of bad) {
      const job = await finished(await ingest().add('bonus.ingest', data, { attempts: bonusContracts['bonus.ingest'].attempts }));
      expect(await job.getState()).to.equal('failed');
      // Not retried though 10 attempts were allowed (BullMQ may not count an unrecoverable attempt).
      expect(job.attemptsMade, String(job.failedReason)).to.be.at.most(1);
      expect(job.failedReason).to.match(reason);
    }
    expect(await count('processed_events')).to.equal(before);
    expect(await stateOf(db(), u)).to.equal(undefined);
  });

  it('GET /bonus/users/:id answers the user themself and admins only', async () => {
    const u = randomUUID();
    const own = await app.get(`/bonus/users/${u}`, await app.authFor(u));
    expect(own.status).to.equal(200);
    expect(own.body).to.deep.equal({ success: true, user_id: u, state: 'idle', linked: false, points_granted: '0.00', missing: ['publish_listing', 'link_account'] });
    expect((await app.get(`/bonus/users/${u}`, await app.authFor(randomUUID()))).status).to.equal(403);
    expect((await app.get(`/bonus/users/${u}`, await app.authFor(randomUUID(), 'admin'))).status).to.equal(200);
    expect((await app.get(`/bonus/users/${u}`)).status).to.equal(401);
  });

  it('GET /notifications shows only the caller\'s own, newest first, in pages', async () => {
    const u = randomUUID();
    for (let i = 0; i < 5; i++) await app.send('ListingPublished', goodListing(u, `P${i}`, { photos_count: i }));
    await settled(db());
    const auth = await app.authFor(u);
    const all = (await app.get('/notifications', auth)).body.notifications as { id: string; kind: string; data: { listing_id: string } }[];
    expect(all.length).to.be.at.least(1);
    const ids = all.map((n) => Number(n.id));
    expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
    const page1 = await app.get('/notifications?limit=2', auth);
    expect(page1.body.notifications).to.have.length(Math.min(2, all.length));
    if (all.length > 2) {
      const page2 = await app.get(`/notifications?limit=2&before=${page1.body.next_before}`, auth);
      expect(page2.body.notifications[0].id).to.equal(all[2]!.id);
    }
    expect((await app.get('/notifications', await app.authFor(randomUUID()))).body.notifications).to.deep.equal([]);
    expect((await app.get('/notifications?limit=0', auth)).status).to.equal(400);
  });

  it('forgets event ids older than the dedupe window (the daily prune job)', async () => {
    const old = randomUUID();
    await db()('processed_events').insert({ event_id: old, event_name: 'AccountLinked', event_version: 1, payload_hash: 'x', received_at: new Date(Date.now() - 31 * 86_400_000) });
    const recent = envelope('AccountLinked', { user_id: randomUUID(), yandex_uid: 'y' });
    await app.post('/events', recent, app.service);
    const queue = app.running.services.queues.get('bonus.prune-events');
    const id = await app.running.services.queues.enqueue(bonusContracts['bonus.prune-events'], {});
    await waitFor(async () => (await queue.getJobState(id)) === 'completed', { what: 'the prune job' });
    expect((await queue.getJob(id))!.returnvalue).to.deep.equal({ deleted: 1 });
    expect(await db()('processed_events').where('event_id', old).first()).to.equal(undefined);
    expect(await db()('processed_events').where('event_id', recent.event_id).first()).to.not.equal(undefined);
  });

  it('the OpenAPI document describes the bonus routes', async () => {
    const doc = (await app.get('/openapi.json')).body;
    expect(doc.paths).to.include.keys('/events', '/bonus/users/{id}', '/notifications');
    expect(doc.paths['/events'].post.description).to.equal('Roles: service');
  });
});
