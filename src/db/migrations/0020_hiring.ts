import type { Knex } from 'knex';

/**
 * The hiring flow (seed 001) as it first shipped: the exercises side (exercises, completion
 * counters), the hiring side (its replica of exercises, attempts, reviewers — with the manager's
 * name and e-mail that ReviewerAssigned v0 carries), users known from their tokens, the consumers'
 * (event_id, produced_at) record and the feature flags. Later migrations evolve it (0021–0025).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('feature_flags', (t) => {
    t.string('name', 128).primary();
    // JSON text of the value.
    t.string('value', 1024).notNullable();
    t.dateTime('updated_at', { precision: 3 }).notNullable();
  });

  // Events a consumer took, by the seed's pair; a row here makes a repeat a no-op.
  await knex.schema.createTable('consumed_events', (t) => {
    t.string('consumer', 64).notNullable();
    t.string('event_id', 64).notNullable();
    t.string('produced_at', 64).notNullable();
    t.dateTime('taken_at', { precision: 3 }).notNullable();
    t.primary(['consumer', 'event_id', 'produced_at']);
    t.index(['taken_at'], 'consumed_events_taken');
  });

  await knex.schema.createTable('hiring_users', (t) => {
    t.string('user_id', 64).primary();
    t.string('role', 16).notNullable();
    t.string('name', 255).nullable();
    t.string('email', 255).nullable();
    t.dateTime('first_seen_at', { precision: 3 }).notNullable();
    t.index(['role', 'user_id'], 'hiring_users_role');
  });

  // Exercises side: the source of truth of an exercise.
  await knex.schema.createTable('exercises', (t) => {
    t.string('exercise_id', 64).primary();
    t.string('title', 500).notNullable();
    t.text('content', 'mediumtext').notNullable();
    t.string('author_id', 64).notNullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.dateTime('updated_at', { precision: 3 }).nullable();
  });

  // Exercises side: completions per candidate (COMM-030's counter) and the reviewer it chose.
  await knex.schema.createTable('candidate_completions', (t) => {
    t.string('candidate_id', 255).primary();
    t.integer('completed').notNullable().defaultTo(0);
    t.string('reviewer_id', 64).nullable();
  });

  // Hiring side: its replica of exercises from the CUD stream; state_at orders versions.
  await knex.schema.createTable('hiring_exercises', (t) => {
    t.string('exercise_id', 255).primary();
    t.text('title').notNullable();
    t.text('content', 'mediumtext').notNullable();
    t.string('author_id', 255).notNullable();
    t.string('created_at', 64).notNullable();
    t.string('updated_at', 64).nullable();
    t.bigInteger('state_at_ms').notNullable();
  });

  // Hiring side: what candidates completed and failed, as the events said.
  await knex.schema.createTable('hiring_attempts', (t) => {
    t.bigIncrements('id').primary();
    t.string('candidate_id', 255).notNullable();
    t.string('exercise_id', 255).notNullable();
    t.text('title').notNullable();
    t.enu('outcome', ['completed', 'failed']).notNullable();
    t.string('at', 64).notNullable();
    t.string('event_id', 64).notNullable();
    t.index(['candidate_id', 'id'], 'hiring_attempts_candidate');
  });

  // Hiring side: a candidate's reviewer, with the personal data ReviewerAssigned v0 carried.
  await knex.schema.createTable('hiring_reviewers', (t) => {
    t.string('candidate_id', 255).primary();
    t.string('reviewer_id', 255).notNullable();
    t.string('reviewer_name', 255).notNullable();
    t.string('reviewer_email', 255).notNullable();
    t.string('assigned_at', 64).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['hiring_reviewers', 'hiring_attempts', 'hiring_exercises', 'candidate_completions', 'exercises', 'hiring_users', 'consumed_events', 'feature_flags']) {
    await knex.schema.dropTableIfExists(table);
  }
}
