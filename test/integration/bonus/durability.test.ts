import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteKeys } from '../../helpers/conveyor.ts';
import { TEST_REDIS } from '../../helpers/db.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';
import { start, type Running } from '../../../src/runtime.ts';
import { withTransaction } from '../../../src/platform/db.ts';
import { ensureAccount, systemAccount } from '../../../src/domain/ledger/index.ts';
import { outboxJobId } from '../../../queues/contract.ts';
import {
  expectLedgerSound, goodListing, grantsOf, kindsOf, pointsBalance, startBonus, stateOf, testSettings, transfersFor, waitForState, type BonusApp,
} from './bonusApp.ts';

/** The same rules as testSettings, as a file, so a worker in another process plays by them. */
const FILE_SETTINGS = {
  points: '100.00', cooldown: '30d', hold: '2s', recheck_cron: '*/15 * * * *',
  quality: { min_photos: 3, min_description: 20, require_price: true },
};

describe('bonus: a Redis wipe during the hold and a worker killed mid-grant', function () {
  this.timeout(40_000);
  let redis: Redis;

  before(() => {
    redis = new Redis(TEST_REDIS, { protocol: 2 });
  });

  after(() => {
    redis.disconnect();
  });

  describe('Redis wiped during the hold', () => {
    let app: BonusApp;

    before(async () => {
      app = await startBonus({ settings: testSettings({ hold: '3s' }) });
    });

    after(async () => {
      await app.stop();
    });

    it('the reconciler re-adds the hold with its remaining delay: paid once, at grant_at, not early', async () => {
      const db = app.database.db;
      const u = randomUUID();
      await app.link(u, 'ya-w');
      await app.send('ListingPublished', goodListing(u, 'L1'));
      const holding = await waitForState(db, u, 'holding');
      const grantAt = holding.grant_at!.getTime();
      const hold = await waitFor(async () => db('outbox').where({ queue: 'bonus.hold-expired', status: 'relayed' }).first(), { what: 'the hold relayed' });
      const queue = app.running.services.queues.get('bonus.hold-expired');
      expect(await queue.getJobState(outboxJobId(hold.id))).to.equal('delayed');

      await deleteKeys(TEST_REDIS, app.prefix);
      expect(await redis.keys(`${app.prefix}:*`)).to.deep.equal([]);
      // Past the reconciler's grace period, so the freshly relayed row counts as lost.
      const restored = await app.running.reconciler!.runOnce(Date.now() + 60_000);
      expect(restored).to.be.at.least(1);
      const job = await queue.getJob(outboxJobId(hold.id));
      expect(await job!.getState()).to.equal('delayed');
      expect(job!.timestamp + job!.opts.delay!, 're-added for the remaining time').to.be.closeTo(grantAt, 50);

      await sleep(Math.max(0, grantAt - Date.now() - 400));
      expect(await grantsOf(db, u), 'nothing paid before grant_at').to.have.length(0);
      expect((await stateOf(db, u))!.state).to.equal('holding');

      await waitForState(db, u, 'cooldown', 10_000);
      const grants = await grantsOf(db, u);
      expect(grants).to.have.length(1);
      expect(grants[0]!.granted_at.getTime()).to.be.at.least(grantAt);
      // Another reconcile pass finds nothing to restore: the hold row is done.
      await app.running.reconciler!.runOnce(Date.now() + 60_000);
      await sleep(300);
      expect(await transfersFor(db, u, 'L1')).to.equal(1);
      expect(await pointsBalance(db, u)).to.equal(10_000);
      await expectLedgerSound(db);
    });
  });

  describe('a worker killed mid-grant', () => {
    let app: BonusApp;
    let child: ChildProcess | undefined;
    let survivor: Running | undefined;
    const file = join(tmpdir(), `bonus-${randomUUID()}.json`);

    before(async () => {
      writeFileSync(file, JSON.stringify(FILE_SETTINGS));
      // The API (and its relay) here; the workers in a child process we can SIGKILL.
      app = await startBonus({ roles: ['api'], env: { BONUS_CONFIG_FILE: file }, settings: testSettings({ hold: '2s' }) });
    });

    after(async () => {
      child?.kill('SIGKILL');
      await survivor?.stop();
      await app.stop();
      rmSync(file, { force: true });
    });

    it('the grant of a worker killed inside its transaction is rolled back and applied once by another worker', async function () {
      this.timeout(90_000);
      const db = app.database.db;
      child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start', '--role', 'worker'], {
        env: {
          ...process.env, NODE_ENV: 'test', LOG_LEVEL: process.env.BONUS_TEST_CHILD_LOGS ?? 'silent', DATABASE_URL: app.config.databaseUrl, REDIS_URL: TEST_REDIS,
          QUEUE_PREFIX: app.prefix, OUTBOX_POLL: '100ms', BONUS_CONFIG_FILE: file,
        },
        stdio: process.env.BONUS_TEST_CHILD_LOGS ? 'inherit' : 'ignore',
      });
      const u = randomUUID();
      // The child worker takes the link's job: give its start (tsx compiling) time on a loaded machine.
      await app.link(u, 'ya-k', 45_000);
      // Both accounts exist; the test holds their row locks so the child's grant stops half-way.
      const ids = await withTransaction(db, async (trx) => [(await systemAccount(trx, 'bonus')).id, (await ensureAccount(trx, { ownerType: 'user', ownerId: u, kind: 'points' })).id]);
      await app.send('ListingPublished', goodListing(u, 'L1'));
      await waitForState(db, u, 'holding');

      // The hold ends; the child locks the outbox row and the user's state, inserts the transfer row
      // and waits for the account locks: mid-grant. Other test files share the server: filter by
      // database. MariaDB reports the waiter as RUNNING in INNODB_TRX; its statement is the tell.
      const dbName = new URL(app.config.databaseUrl).pathname.slice(1);
      const blockedGrant = async () => {
        const [rows] = (await db.raw(
          "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'SELECT id, balance, allow_negative FROM accounts WHERE id IN%FOR UPDATE'",
          [dbName],
        )) as [{ id: number }[]];
        return rows[0] ? Number(rows[0].id) : null;
      };
      const blocker = await db.transaction();
      let waiting: number;
      try {
        await blocker.raw('SELECT id FROM accounts WHERE id IN (?, ?) FOR UPDATE', ids);
        waiting = await waitFor(blockedGrant, { timeoutMs: 15_000, what: 'the child worker blocked inside the grant' });
        child.kill('SIGKILL');
        await new Promise((resolve) => child!.once('exit', resolve));
      } finally {
        await blocker.commit();
      }

      // The dead connection's transaction is rolled back: no transfer, still holding.
      await waitFor(async () => {
        const [rows] = (await db.raw('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?', [waiting])) as [{ n: number }[]];
        return Number(rows[0]!.n) === 0;
      }, { what: 'the killed connection gone and its transaction rolled back' });
      expect(await transfersFor(db, u, 'L1')).to.equal(0);
      expect((await stateOf(db, u))!.state).to.equal('holding');

      // A new worker; the dead one's job locks would expire after 30 s: expire them now and let
      // the stalled-job check put the job back in the queue.
      survivor = await start(app.config, ['worker'], { metricsDefaults: false, bonus: testSettings({ hold: '2s' }) });
      await waitFor(async () => {
        const keys = [...(await redis.keys(`${app.prefix}:bonus.*:lock`)), ...(await redis.keys(`${app.prefix}:bonus.*:stalled-check`))];
        if (keys.length > 0) await redis.del(...keys);
        for (const w of survivor!.workers) await w.startStalledCheckTimer();
        await sleep(200);
        return (await stateOf(db, u))!.state === 'cooldown';
      }, { timeoutMs: 20_000, what: 'the survivor to finish the grant' });

      expect(await transfersFor(db, u, 'L1')).to.equal(1);
      expect(await grantsOf(db, u)).to.have.length(1);
      expect(await pointsBalance(db, u)).to.equal(10_000);
      expect(await kindsOf(db, u)).to.deep.equal(['bonus_pending', 'bonus_granted']);

      // A late duplicate delivery of the same hold job (as after a crash between commit and ack) is a no-op.
      const hold = await db('outbox').where({ queue: 'bonus.hold-expired' }).orderBy('id', 'desc').first();
      const again = await survivor.services.queues.get('bonus.hold-expired').add('bonus.hold-expired', { v: 1, payload: JSON.parse(hold.payload), outbox_id: String(hold.id) }, { jobId: `dup-${hold.id}` });
      await waitFor(async () => (await again.getState()) === 'completed');
      expect((await survivor.services.queues.get('bonus.hold-expired').getJob(again.id!))!.returnvalue).to.deep.equal({ duplicate: true });
      expect(await transfersFor(db, u, 'L1')).to.equal(1);
      await expectLedgerSound(db);
    });
  });
});
