import type { Knex } from 'knex';

// Ids and keys compare byte for byte (API.md): the tables take the database's binary NO PAD
// default, set by 0010_identifiers_bin.

export async function up(knex: Knex): Promise<void> {
  // Auth's users: the source of the AccountCreated / AccountRoleChanged stream. version orders
  // the stream per user, so a replica ignores a change older than the one it holds.
  await knex.schema.createTable('popug_users', (t) => {
    t.string('user_id', 36).primary();
    t.string('role', 16).notNullable();
    t.string('name', 128).nullable();
    t.string('email', 254).nullable();
    t.integer('version').notNullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.dateTime('updated_at', { precision: 3 }).notNullable();
  });

  // The tracker's own copy of users (fed by events only). Random assignment pages (role, user_id).
  await knex.schema.createTable('popug_tracker_users', (t) => {
    t.string('user_id', 36).primary();
    t.string('role', 16).notNullable();
    t.integer('version').notNullable();
    t.index(['role', 'user_id'], 'popug_tracker_users_role');
  });

  await knex.schema.createTable('popug_tasks', (t) => {
    t.string('task_id', 36).primary();
    t.string('title', 255).notNullable();
    t.string('jira_id', 32).nullable();
    t.text('description').notNullable();
    t.string('status', 8).notNullable();
    t.string('assignee', 36).notNullable();
    t.string('created_by', 36).notNullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.dateTime('completed_at', { precision: 3 }).nullable();
    t.index(['assignee', 'status', 'created_at'], 'popug_tasks_assignee');
    // Reshuffles page open tasks by id; lists page by creation time.
    t.index(['status', 'task_id'], 'popug_tasks_status');
    t.index(['created_at', 'task_id'], 'popug_tasks_created');
  });

  // One row per reshuffle. running is 1 while it runs and NULL after: the unique index lets only
  // one row hold it, so MySQL itself refuses a second concurrent reshuffle.
  await knex.schema.createTable('popug_reshuffles', (t) => {
    t.string('reshuffle_id', 36).primary();
    t.tinyint('running').nullable().unique({ indexName: 'popug_reshuffles_one_running' });
    t.string('status', 8).notNullable();
    t.integer('tasks_total').notNullable();
    t.integer('tasks_done').notNullable().defaultTo(0);
    // The last task id handled: a resumed run continues after it (written with each batch).
    t.string('after_task_id', 36).nullable();
    t.string('requested_by', 36).notNullable();
    t.dateTime('started_at', { precision: 3 }).notNullable();
    t.dateTime('finished_at', { precision: 3 }).nullable();
  });

  // Payments' copy of users (email and name for the report mail).
  await knex.schema.createTable('popug_payment_users', (t) => {
    t.string('user_id', 36).primary();
    t.string('role', 16).notNullable();
    t.string('name', 128).nullable();
    t.string('email', 254).nullable();
    t.integer('version').notNullable();
  });

  // Prices, fixed once when payments first hears of a task (INSERT IGNORE decides the first).
  await knex.schema.createTable('popug_task_prices', (t) => {
    t.string('task_id', 36).primary();
    t.string('title', 255).nullable();
    t.bigInteger('assign_fee').notNullable();
    t.bigInteger('reward').notNullable();
    t.dateTime('priced_at', { precision: 3 }).notNullable();
  });

  // The audit log. entry_id is a hash of the event that caused the entry (name, id, time, task,
  // user), so a redelivered event maps to the same row; day is the payout cycle it counts in.
  await knex.schema.createTable('popug_entries', (t) => {
    t.string('entry_id', 64).primary();
    t.string('user_id', 36).notNullable();
    t.date('day').notNullable();
    t.string('kind', 8).notNullable();
    t.string('task_id', 36).nullable();
    t.bigInteger('amount').notNullable();
    t.string('description', 255).notNullable();
    t.dateTime('at', { precision: 3 }).notNullable();
    t.bigInteger('transfer_id').unsigned().notNullable();
    t.index(['user_id', 'day', 'at'], 'popug_entries_user_day');
  });

  // One row per payout cycle: its state and the dashboard's aggregates, kept as entries are
  // written (so the dashboard reads O(days) rows). red_delta: how many balances crossed below
  // zero (+) or back (-) through this day's entries; their running sum is employees_in_red.
  await knex.schema.createTable('popug_days', (t) => {
    t.date('day').primary();
    t.string('status', 8).notNullable();
    t.bigInteger('fees').notNullable().defaultTo(0);
    t.bigInteger('rewards').notNullable().defaultTo(0);
    t.bigInteger('payouts').notNullable().defaultTo(0);
    t.integer('employees_paid').notNullable().defaultTo(0);
    t.integer('red_delta').notNullable().defaultTo(0);
    t.integer('in_red_at_close').nullable();
    t.string('top_task_id', 36).nullable();
    t.bigInteger('top_reward').nullable();
    // The payout run's position (last employee account id handled) and the red count so far.
    t.bigInteger('payout_cursor').notNullable().defaultTo(0);
    t.integer('payout_in_red').notNullable().defaultTo(0);
    t.dateTime('closed_at', { precision: 3 }).nullable();
    t.dateTime('done_at', { precision: 3 }).nullable();
  });

  // Exactly one payout per employee and day: the primary key refuses a second.
  await knex.schema.createTable('popug_payouts', (t) => {
    t.string('user_id', 36).notNullable();
    t.date('day').notNullable();
    t.bigInteger('amount').notNullable();
    t.string('entry_id', 64).notNullable();
    t.dateTime('paid_at', { precision: 3 }).notNullable();
    t.primary(['user_id', 'day']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['popug_payouts', 'popug_days', 'popug_entries', 'popug_task_prices', 'popug_payment_users', 'popug_reshuffles', 'popug_tasks', 'popug_tracker_users', 'popug_users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
