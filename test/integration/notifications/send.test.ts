import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { ConsumerServer } from '../../helpers/consumerServer.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';
import { createNotification, type NewNotification } from '../../../src/domain/notifications/inbox.ts';
import type { Services } from '../../../src/services.ts';

/** How another module (popug's report mail, say) sends a notification: in its own transaction. */
async function notify(services: Services, n: Partial<NewNotification> & { userId: string }): Promise<string> {
  const id = await services.outbox.transaction((trx) =>
    createNotification(
      trx,
      { kind: 'report', title: 'Your day', body: 'You earned 5.00', mailSubject: 'Daily report', mailBody: 'Earned 5.00 today.', data: { sum: '5.00' }, ...n },
      { channels: [...services.notifications.channels.keys()], now: services.clock.now() },
    ),
  );
  return id;
}

describe('notifications: stored inbox and delivery through pluggable channels', function () {
  this.timeout(30_000);
  let app: TestConveyor;
  let push: ConsumerServer;
  let mail: ConsumerServer;

  before(async () => {
    push = await new ConsumerServer().start();
    mail = await new ConsumerServer().start();
    app = await startConveyor({ env: { NOTIFY_PUSH_URL: `${push.url}/push`, NOTIFY_MAIL_URL: `${mail.url}/mail`, NOTIFY_TIMEOUT: '300ms' } });
  });

  after(async () => {
    await app.stop();
    await push.stop();
    await mail.stop();
  });

  beforeEach(() => {
    push.received.length = 0;
    mail.received.length = 0;
    push.setScript([], 200);
    mail.setScript([], 200);
  });

  const auth = async (userId: string) => ({ authorization: `Bearer ${await app.token({ sub: userId, role: 'employee' })}` });
  const sendJob = (id: string, channel: string) =>
    app.database.db('outbox').where({ queue: 'notifications.send' }).whereRaw('JSON_VALUE(payload, "$.notification_id") = ? AND JSON_VALUE(payload, "$.channel") = ?', [id, channel]).first();

  it('stores the notification and delivers it once per channel with an idempotency key', async () => {
    const u = randomUUID();
    const id = await notify(app.running.services, { userId: u });
    await waitFor(() => push.received.length === 1 && mail.received.length === 1, { what: 'both channels' });
    expect(push.received[0]!.headers['idempotency-key']).to.equal(`notification-${id}-push`);
    expect(push.received[0]!.body).to.deep.include({ notification_id: id, user_id: u, kind: 'report', title: 'Your day', body: 'You earned 5.00' });
    expect(mail.received[0]!.headers['idempotency-key']).to.equal(`notification-${id}-mail`);
    expect(mail.received[0]!.body).to.deep.include({ notification_id: id, user_id: u, subject: 'Daily report', text: 'Earned 5.00 today.', data: { sum: '5.00' } });
    const inbox = await waitFor(async () => {
      const res = await app.get('/notifications', await auth(u));
      return Object.keys(res.body.notifications[0]?.delivered ?? {}).length === 2 ? res.body.notifications : null;
    }, { what: 'deliveries recorded' });
    expect(inbox).to.have.length(1);
    expect(inbox[0]).to.deep.include({ id, kind: 'report', mail_subject: 'Daily report' });
  });

  it('retries a channel that is down with backoff without resending the other', async () => {
    const u = randomUUID();
    push.setScript([503, 'drop'], 200);
    const id = await notify(app.running.services, { userId: u });
    await waitFor(() => push.received.length === 3, { timeoutMs: 15_000, what: 'push retried twice' });
    await sleep(300);
    expect(push.received).to.have.length(3);
    expect(mail.received).to.have.length(1);
    expect(new Set(push.received.map((r) => r.headers['idempotency-key']))).to.deep.equal(new Set([`notification-${id}-push`]));
    await waitFor(async () => (await sendJob(id, 'push'))?.status === 'done', { what: 'push job done' });
    const row = await app.database.db('notification_deliveries').where({ notification_id: id, channel: 'push' }).first();
    expect(row.attempts).to.equal(3);
  });

  it('gives up on a channel that refuses (4xx) at once; the inbox keeps the notification', async () => {
    const u = randomUUID();
    mail.setScript([422], 200);
    const id = await notify(app.running.services, { userId: u });
    const row = await waitFor(() => sendJob(id, 'mail'));
    const job = await waitFor(async () => {
      const j = await app.running.services.queues.get('notifications.send').getJob(`ob-${row.id}`);
      return j && (await j.getState()) === 'failed' ? j : null;
    });
    expect(job.failedReason).to.match(/mail gateway refused with 422/);
    await sleep(300);
    expect(mail.received).to.have.length(1);
    const inbox = (await app.get('/notifications', await auth(u))).body.notifications;
    expect(inbox[0].id).to.equal(id);
    expect(Object.keys(inbox[0].delivered)).to.deep.equal(['push']);
  });

  it('with no channel configured, the inbox alone is used', async () => {
    const bare = await startConveyor();
    try {
      expect([...bare.running.services.notifications.channels.keys()]).to.deep.equal([]);
      const u = randomUUID();
      await notify(bare.running.services, { userId: u, kind: 'hello' });
      const res = await bare.get('/notifications', { authorization: `Bearer ${await bare.token({ sub: u, role: 'client' })}` });
      expect(res.body.notifications.map((n: { kind: string }) => n.kind)).to.deep.equal(['hello']);
      expect(await bare.database.db('outbox').where('queue', 'notifications.send')).to.have.length(0);
    } finally {
      await bare.stop();
    }
  });
});
