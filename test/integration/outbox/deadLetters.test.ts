import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { waitFor } from '../../helpers/wait.ts';
import { goodListing, startBonus, testSettings, waitForState, type BonusApp } from '../bonus/bonusApp.ts';

const QUEUE = 'bonus.deliver-points';

/**
 * The dead-letter endpoints on a real failure: the points service refuses a grant (a 4xx no retry
 * can fix), the delivery's outbox row is dead with its reason; once the service is fixed, a replay
 * delivers it, once.
 */
describe('dead letters: GET /admin/dead-letters and POST /admin/dead-letters/:id/replay (real MySQL, Redis, HTTP)', function () {
  this.timeout(60_000);
  let app: BonusApp;
  let points: ConsumerServer;
  let basic: Record<string, string>;

  before(async () => {
    points = await new ConsumerServer([], 422).start();
    app = await startBonus({ settings: testSettings({ points_url: `${points.url}/grants` }) });
    basic = { authorization: `Basic ${Buffer.from(`${app.config.adminUser}:${app.config.adminPassword}`).toString('base64')}` };
  });

  after(async () => {
    await app.stop();
    await points.stop();
  });

  const deadLetters = (query = '') => app.get(`/admin/dead-letters${query}`, basic);
  const deliveriesOf = (u: string) => points.received.filter((r) => r.body.user_id === u);

  it('lists a delivery that failed for good with its reason, and replays it once after the fix', async () => {
    const u = randomUUID();
    await app.link(u, 'ya-dead');
    await app.send('ListingPublished', goodListing(u, 'L1'));
    await waitForState(app.database.db, u, 'cooldown', 20_000);

    const listed = await waitFor(async () => {
      const res = await deadLetters(`?queue=${QUEUE}`);
      return (res.body.dead_letters as { payload: { user_id: string } }[]).find((d) => d.payload.user_id === u);
    }, { timeoutMs: 20_000, what: 'the refused delivery dead' });
    const dead = listed as unknown as { id: number; queue: string; attempts: number; last_error: string; dead_at: string };
    expect(dead.queue).to.equal(QUEUE);
    expect(dead.attempts).to.equal(1);
    expect(dead.last_error).to.match(/422/);
    expect(Date.parse(dead.dead_at)).to.be.greaterThan(0);
    expect(deliveriesOf(u)).to.have.length(1);

    // The operator fixes the points service and replays the letter.
    points.setScript([], 200);
    // Caught while the failure is still being filed, a replay is 409 job_running: the operator tries again.
    const replay = (await waitFor(async () => {
      const answer = await app.post(`/admin/dead-letters/${dead.id}/replay`, {}, basic);
      return answer.status === 409 && answer.body.code === 'job_running' ? null : answer;
    }, { what: 'the replay taken' }))!;
    expect(replay.status, JSON.stringify(replay.body)).to.equal(202);
    expect(replay.body).to.deep.equal({ success: true, id: dead.id, status: 'replaying' });
    await waitFor(async () => ((await app.database.db('outbox').where('id', dead.id).first()) as { status: string }).status === 'done', { timeoutMs: 20_000, what: 'the replayed row done' });
    expect(deliveriesOf(u)).to.have.length(2);
    expect(deliveriesOf(u).map((r) => r.headers['idempotency-key'])).to.deep.equal([`bonus:${u}:L1`, `bonus:${u}:L1`]);

    // Not dead any more: a second replay is refused and runs nothing.
    const again = await app.post(`/admin/dead-letters/${dead.id}/replay`, {}, basic);
    expect(again.status).to.equal(409);
    expect(again.body.code).to.equal('not_dead');
    expect((await deadLetters(`?queue=${QUEUE}`)).body.dead_letters.map((d: { id: number }) => d.id)).not.to.include(dead.id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(deliveriesOf(u)).to.have.length(2);
  });

  it('needs the admin credentials, and answers bad input with a clear 4xx', async () => {
    expect((await app.get('/admin/dead-letters')).status).to.equal(401);
    expect((await app.post('/admin/dead-letters/1/replay', {})).status).to.equal(401);
    const unknownQueue = await deadLetters('?queue=no.such-queue');
    expect(unknownQueue.status).to.equal(400);
    expect(unknownQueue.body.code).to.equal('unknown_queue');
    expect((await deadLetters('?limit=0')).status).to.equal(400);
    expect((await deadLetters('?limit=abc')).status).to.equal(400);
    const missing = await app.post('/admin/dead-letters/999999999/replay', {}, basic);
    expect(missing.status).to.equal(404);
    expect((await app.post('/admin/dead-letters/abc/replay', {}, basic)).status).to.equal(400);
  });
});
