import type { Knex } from 'knex';

/**
 * The tracker's current employees numbered 1..n without gaps (popug_assignees) and n itself
 * (popug_assignee_count, one row): a uniformly random assignee is slot randomInt(n) + 1, two
 * key lookups, where a COUNT and an OFFSET over the employees cost O(n) per task. The tracker's
 * user copy keeps them (src/domain/popug/assignees.ts); here they are filled from that copy.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('popug_assignees', (t) => {
    t.integer('slot').unsigned().primary();
    t.string('user_id', 36).notNullable().unique();
  });
  await knex.schema.createTable('popug_assignee_count', (t) => {
    t.tinyint('id').unsigned().primary();
    t.integer('n').unsigned().notNullable();
  });
  await knex.raw(
    `INSERT INTO popug_assignees (slot, user_id)
     SELECT ROW_NUMBER() OVER (ORDER BY user_id), user_id FROM popug_tracker_users WHERE role = 'employee'`,
  );
  await knex.raw('INSERT INTO popug_assignee_count (id, n) SELECT 1, COUNT(*) FROM popug_assignees');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('popug_assignee_count');
  await knex.schema.dropTable('popug_assignees');
}
