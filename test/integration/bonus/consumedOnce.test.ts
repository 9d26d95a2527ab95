import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { AccountLinked } from '../../../src/domain/bonus/events.ts';
import { eventJobs, writeOutbox } from '../../../queues/outbox/writer.ts';
import type { Envelope } from '../../../queues/outbox/envelope.ts';
import { waitFor } from '../../helpers/wait.ts';
import { envelope, settled, startBonus, stateOf, type BonusApp } from './bonusApp.ts';

describe('bonus.apply-event takes each (event_id, produced_at) once', function () {
  this.timeout(30_000);
  let app: BonusApp;
  before(async () => {
    app = await startBonus();
  });
  after(async () => {
    await app.stop();
  });
  const db = () => app.database.db;

  it('a second outbox row carrying an event already taken changes nothing', async () => {
    const u = randomUUID();
    const first = envelope('AccountLinked', { user_id: u, yandex_uid: 'first-uid' }) as Envelope<{ user_id: string; yandex_uid: string }>;
    expect((await app.post('/events', first, app.service)).status).to.equal(200);
    await waitFor(async () => (await stateOf(db(), u))?.yandex_uid === 'first-uid', { what: 'first link' });
    await app.link(u, 'second-uid');
    await settled(db());
    const before = { state: await stateOf(db(), u), notices: await db()('notifications').where('user_id', u).count({ n: '*' }) };

    // The first event again, past the door (as a replayed dead letter or a producer's rerun would be):
    // applied, it would link the old account again.
    await db().transaction((trx) => writeOutbox(trx, eventJobs(AccountLinked, first).filter((j) => j.queue === 'bonus.apply-event')));
    const [row] = (await db()('outbox').where({ event_id: first.event_id, queue: 'bonus.apply-event' }).orderBy('id', 'desc').limit(1)) as { id: number }[];
    await waitFor(async () => ((await db()('outbox').where('id', row!.id).first()) as { status: string }).status === 'done', { what: 'second row done' });
    expect(await stateOf(db(), u)).to.deep.equal(before.state);
    expect(await db()('notifications').where('user_id', u).count({ n: '*' })).to.deep.equal(before.notices);
    const taken = (await db()('consumed_events').where({ consumer: 'bonus.apply-event', event_id: first.event_id })) as { produced_at: string }[];
    expect(taken.map((t) => t.produced_at)).to.deep.equal([first.produced_at]);
    // The row is marked done inside the job's transaction, before BullMQ records the job completed.
    const queue = app.running.services.queues.get('bonus.apply-event');
    await waitFor(async () => (await queue.getJobState(`ob-${row!.id}`)) === 'completed', { what: 'second job completed' });
    expect((await queue.getJob(`ob-${row!.id}`))?.returnvalue).to.deep.equal({ skipped: 'already_taken' });
  });
});
