import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { migrate, migrateAroundRefused, type Db } from '../../../src/platform/db.ts';
import { MigrationRefused, pendingEvents } from '../../../src/db/pendingEvents.ts';
import { migrations } from '../../../src/db/migrations/index.ts';
import { createTestDatabase, migrateUpTo, type TestDatabase } from '../../helpers/db.ts';

/** Seed 001's migrations: expand (0021), backfill (0022), PII optional (0023), and the two contract steps that wait for old events. */
describe('hiring migrations: expand, backfill, contract refused while old events are pending', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  let db: Db;

  beforeEach(async () => {
    t = await createTestDatabase('mig', { migrated: false, pool: 4 });
    db = t.db;
  });
  afterEach(() => t.drop());

  const upTo = (name: string) => migrateUpTo(db, name);
  /** The migrations after seed 001's, which a refused contract step must not hold back. */
  const later = migrations.map((m) => m.name).filter((name) => name > '0025_hiring_reviewer_pii_drop');
  const applied = async () => ((await db('knex_migrations').select('name')) as { name: string }[]).map((r) => r.name);
  const column = async (table: string, name: string) => {
    const [rows] = (await db.raw('SELECT IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?', [table, name])) as [
      { nullable: string }[],
    ];
    return rows[0] ? { nullable: rows[0].nullable === 'YES' } : null;
  };
  const outboxRow = (event: string, version: number, status: string) => ({
    queue: 'hiring.record-attempt',
    job_name: 'hiring.record-attempt',
    payload_version: version,
    payload: '{}',
    event_id: `ev-${Math.random()}`,
    event_name: event,
    status,
    available_at: new Date(),
    created_at: new Date(),
  });
  const attempt = (candidate: string) => ({ candidate_id: candidate, exercise_id: 'e', title: 't', outcome: 'completed', at: '2026-01-01T00:00:00Z', event_id: 'x' });

  it('a fresh database takes every migration at once (nothing is pending), knowledge_area NOT NULL and the PII columns gone', async () => {
    const result = await migrateAroundRefused(db);
    expect(result.refused).to.deep.equal([]);
    expect(result.applied).to.include.members(['0024_hiring_knowledge_area_required', '0025_hiring_reviewer_pii_drop']);
    expect(await column('hiring_attempts', 'knowledge_area')).to.deep.equal({ nullable: false });
    expect(await column('hiring_reviewers', 'reviewer_name')).to.equal(null);
    expect(await column('hiring_reviewers', 'reviewer_email')).to.equal(null);
  });

  it('0021 adds knowledge_area nullable; 0022 backfills the rows recorded before it; 0023 makes the reviewer PII optional', async () => {
    await upTo('0020_hiring');
    expect(await column('hiring_attempts', 'knowledge_area')).to.equal(null);
    await db('hiring_attempts').insert([attempt('old-1'), attempt('old-2')]);
    await upTo('0021_hiring_knowledge_area');
    expect(await column('hiring_attempts', 'knowledge_area')).to.deep.equal({ nullable: true });
    expect((await db('hiring_attempts').whereNull('knowledge_area')).length).to.equal(2);
    await upTo('0022_hiring_knowledge_area_backfill');
    expect((await db('hiring_attempts').whereNull('knowledge_area')).length).to.equal(0);
    expect((await db('hiring_attempts').where('knowledge_area', '')).length).to.equal(2);
    expect(await column('hiring_reviewers', 'reviewer_name')).to.deep.equal({ nullable: false });
    await upTo('0023_hiring_reviewer_pii_nullable');
    expect(await column('hiring_reviewers', 'reviewer_name')).to.deep.equal({ nullable: true });
  });

  it('the knowledge_area contract step refuses while ExerciseCompleted v0 is pending (saying so), and runs once it drained; start goes on without it', async () => {
    await upTo('0023_hiring_reviewer_pii_nullable');
    await db('outbox').insert([outboxRow('ExerciseCompleted', 0, 'relayed'), outboxRow('ExerciseCompleted', 1, 'pending'), outboxRow('ExerciseCompleted', 0, 'done')]);
    // An envelope that did not fit the header columns keeps its name in the payload.
    await db('outbox').insert({ ...outboxRow('ExerciseCompleted', 0, 'pending'), event_name: null, payload: JSON.stringify({ event_name: 'ExerciseCompleted', event_version: 0 }) });
    expect(await pendingEvents(db, 'ExerciseCompleted', 0)).to.equal(2);

    const atStart = await migrateAroundRefused(db);
    // The migrations after the refused step are not held back by it (the other contract step included).
    expect(atStart.applied).to.deep.equal(['0025_hiring_reviewer_pii_drop', ...later]);
    expect(atStart.refused).to.have.length(1);
    expect(atStart.refused[0]).to.be.instanceOf(MigrationRefused);
    expect(atStart.refused[0]!.migration).to.equal('0024_hiring_knowledge_area_required');
    expect(atStart.refused[0]!.message).to.match(/2 ExerciseCompleted v0 event deliveries are still pending/).and.match(/events\.ExerciseCompleted\.version/);
    let thrown: unknown;
    await migrate(db).catch((err: unknown) => (thrown = err));
    expect(thrown).to.be.instanceOf(MigrationRefused);
    expect(await applied()).to.not.include('0024_hiring_knowledge_area_required');
    expect(await applied()).to.include.members(later);
    expect(await column('hiring_attempts', 'knowledge_area')).to.deep.equal({ nullable: true });
    // Not locked out: the migration lock was released.
    expect(((await db('knex_migrations_lock').first()) as { is_locked: number }).is_locked).to.equal(0);

    // A row the old code wrote after the backfill, then the events drain.
    await db('hiring_attempts').insert(attempt('late'));
    await db('outbox').where('payload_version', 0).update({ status: 'done' });
    const after = await migrateAroundRefused(db);
    expect(after.refused).to.deep.equal([]);
    expect(after.applied).to.deep.equal(['0024_hiring_knowledge_area_required']);
    expect(await column('hiring_attempts', 'knowledge_area')).to.deep.equal({ nullable: false });
    expect(((await db('hiring_attempts').where('candidate_id', 'late').first()) as { knowledge_area: string }).knowledge_area).to.equal('');
  });

  it('npm run migrate fails with the refusal, plainly (exit 1, no stack); npm start would go on without it', async () => {
    await upTo('0023_hiring_reviewer_pii_nullable');
    await db('outbox').insert(outboxRow('ExerciseCompleted', 0, 'pending'));
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'migrate'], {
      env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: t.url, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.match(/0024_hiring_knowledge_area_required refused: 1 ExerciseCompleted v0/);
    expect(run.stderr).to.not.match(/\n\s+at /);
    expect(await applied()).to.not.include('0024_hiring_knowledge_area_required');
  });

  it('the PII drop waits for ReviewerAssigned v0 to drain; v1 events do not hold it', async () => {
    await upTo('0024_hiring_knowledge_area_required');
    await db('hiring_reviewers').insert({ candidate_id: 'c', reviewer_id: 'm', reviewer_name: 'Ann', reviewer_email: 'ann@x', assigned_at: 'now' });
    await db('outbox').insert([outboxRow('ReviewerAssigned', 0, 'pending'), outboxRow('ReviewerAssigned', 1, 'pending')]);
    const refused = await migrateAroundRefused(db);
    expect(refused.refused.map((r) => r.migration)).to.deep.equal(['0025_hiring_reviewer_pii_drop']);
    expect(refused.refused[0]!.message).to.match(/1 ReviewerAssigned v0/);
    expect(refused.applied).to.deep.equal(later);
    expect(await column('hiring_reviewers', 'reviewer_email')).to.deep.equal({ nullable: true });
    await db('outbox').where({ event_name: 'ReviewerAssigned', payload_version: 0 }).update({ status: 'done' });
    expect(await migrate(db)).to.deep.equal(['0025_hiring_reviewer_pii_drop']);
    expect(await column('hiring_reviewers', 'reviewer_email')).to.equal(null);
    expect(await db('hiring_reviewers').first()).to.deep.equal({ candidate_id: 'c', reviewer_id: 'm', assigned_at: 'now' });
  });
});
