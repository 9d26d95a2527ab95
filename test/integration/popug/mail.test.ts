import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { withTransaction } from '../../../src/platform/db.ts';
import { selectRows, toSafeInt } from '../../../src/platform/sql.ts';
import { recordMovement } from '../../../src/domain/popug/payments.ts';
import { dayOf } from '../../../src/domain/popug/days.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';
import { startPopug, testSettings, type PopugApp } from './popugApp.ts';

interface Received {
  to: string[];
  body: string;
}

/** An SMTP receiver in this process that refuses the first `failures` messages with 451. */
async function receiver(failures: number): Promise<{ url: string; received: Received[]; refused: () => number; close: () => Promise<void> }> {
  const received: Received[] = [];
  let refused = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refused < failures) {
          refused++;
          return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        }
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), body: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, received, refused: () => refused, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function payOneEmployee(app: PopugApp, email: string): Promise<{ id: string; day: string }> {
  const user = await app.user('employee', { email });
  const now = new Date();
  await withTransaction(app.database.db, (trx) =>
    recordMovement(trx, { entryId: randomUUID().replace(/-/g, ''), userId: user.id, kind: 'reward', taskId: randomUUID(), amount: 2500, description: 'seed', at: now }, 'UTC'),
  );
  const day = dayOf(now, 'UTC');
  expect((await app.post('/popug/payouts/run', { day }, app.admin.auth)).status).to.equal(202);
  await waitFor(async () => (await app.get(`/popug/payouts?day=${day}`, app.admin.auth)).body.status === 'done');
  return { id: user.id, day };
}

describe('popug report mails', function () {
  this.timeout(60_000);

  it('mails one report per payout, after retrying a receiver that fails twice', async () => {
    const smtp = await receiver(2);
    const app = await startPopug({ env: { SMTP_URL: smtp.url }, settings: testSettings({ mail_attempts: 3 }) });
    try {
      await payOneEmployee(app, 'kesha@popug.local');
      await waitFor(() => smtp.received.length === 1, { timeoutMs: 20_000 });
      expect(smtp.refused()).to.equal(2);
      expect(smtp.received[0]!.to).to.deep.equal(['kesha@popug.local']);
      expect(smtp.received[0]!.body).to.include('25.00');
      // The job again (a duplicate delivery): the payout's mail row is marked sent, nothing is sent.
      const [mail] = await selectRows<{ entry_id: string; sent_at: Date | null }>(app.database.db, 'SELECT entry_id, sent_at FROM popug_report_mails');
      const queue = app.running.services.queues.get('popug.send-report');
      const jobId = `report-${mail!.entry_id}`;
      // The mail left before the job marked it: wait for the job itself to complete.
      await waitFor(async () => (await queue.getJobState(jobId)) === 'completed');
      const done = (await queue.getJob(jobId))!;
      await done.remove();
      await queue.add(done.name, done.data, { jobId });
      await waitFor(async () => (await queue.getJobState(jobId)) === 'completed');
      expect((await queue.getJob(jobId))!.returnvalue).to.deep.equal({ duplicate: true, state: 'sent' });
      await sleep(300);
      expect(smtp.received).to.have.length(1);
    } finally {
      await app.stop();
      await smtp.close();
    }
  });

  it('gives up after mail_attempts into the failed set, leaving money alone', async () => {
    const smtp = await receiver(1000);
    const app = await startPopug({ env: { SMTP_URL: smtp.url }, settings: testSettings({ mail_attempts: 2 }) });
    try {
      const { id } = await payOneEmployee(app, 'rio@popug.local');
      const queue = app.running.services.queues.get('popug.send-report');
      const failed = await waitFor(async () => (await queue.getFailed())[0], { timeoutMs: 20_000 });
      expect(failed.attemptsMade).to.equal(2);
      expect(failed.failedReason).to.include('given up after 2 attempts');
      expect(smtp.refused()).to.equal(2);
      const [mail] = await selectRows<{ given_up_at: Date | null; last_error: string | null }>(app.database.db, 'SELECT given_up_at, last_error FROM popug_report_mails');
      expect(mail!.given_up_at).to.be.instanceOf(Date);
      expect(mail!.last_error).to.include('given up after 2 attempts');
      const paid = await selectRows<{ amount: unknown }>(app.database.db, "SELECT -amount AS amount FROM popug_entries WHERE kind = 'payout' AND user_id = ?", [id]);
      expect(toSafeInt(paid[0]!.amount, 'amount')).to.equal(2500);
      expect(await app.balanceOf(id)).to.equal(0);
      // The report is still in the inbox.
      const inbox = await app.get('/notifications', await app.authFor(id, 'employee'));
      expect(inbox.body.notifications[0]).to.include({ kind: 'popug_payout' });
    } finally {
      await app.stop();
      await smtp.close();
    }
  });

  it('queues again, with the next payout run, a mail whose job Redis lost', async () => {
    const smtp = await receiver(0);
    const app = await startPopug({ env: { SMTP_URL: smtp.url } });
    try {
      const { day } = await payOneEmployee(app, 'lost@popug.local');
      await waitFor(() => smtp.received.length === 1, { timeoutMs: 20_000 });
      const [mail] = await selectRows<{ entry_id: string }>(app.database.db, 'SELECT entry_id FROM popug_report_mails');
      const queue = app.running.services.queues.get('popug.send-report');
      const jobId = `report-${mail!.entry_id}`;
      await waitFor(async () => (await queue.getJobState(jobId)) === 'completed');
      // As after a wipe: the job is gone and the mail row never got its mark, a day ago.
      await (await queue.getJob(jobId))!.remove();
      await app.database.db.raw('UPDATE popug_report_mails SET sent_at = NULL, queued_at = ? WHERE entry_id = ?', [new Date(Date.now() - 25 * 3600_000), mail!.entry_id]);
      expect((await app.post('/popug/payouts/run', { day }, app.admin.auth)).status).to.equal(202);
      await waitFor(() => smtp.received.length === 2, { what: 'the lost mail sent again', timeoutMs: 20_000 });
      expect(smtp.received[1]!.to).to.deep.equal(['lost@popug.local']);
      await waitFor(async () => (await selectRows<{ sent_at: Date | null }>(app.database.db, 'SELECT sent_at FROM popug_report_mails'))[0]!.sent_at !== null);
      // A run while nothing is lost queues nothing.
      expect((await app.post('/popug/payouts/run', { day }, app.admin.auth)).status).to.equal(202);
      await app.settle();
      expect(smtp.received).to.have.length(2);
    } finally {
      await app.stop();
      await smtp.close();
    }
  });

  it('keeps the report in the inbox only when SMTP_URL is unset', async () => {
    const app = await startPopug();
    try {
      const { id } = await payOneEmployee(app, 'nosmtp@popug.local');
      await app.settle();
      const inbox = await app.get('/notifications', await app.authFor(id, 'employee'));
      expect(inbox.body.notifications[0]).to.include({ kind: 'popug_payout' });
      expect(inbox.body.notifications[0].mail_subject ?? inbox.body.notifications[0].mail?.subject ?? JSON.stringify(inbox.body.notifications[0])).to.include('25.00');
    } finally {
      await app.stop();
    }
  });
});
