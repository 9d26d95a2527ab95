import type { Knex } from 'knex';

/**
 * The entries of the days after a payout's day, by day: a payout batch subtracts them from its
 * employees' balances (src/domain/popug/payout.ts). A payout runs just after its day closed, so
 * those are few and sit at the end of this index; found through (user_id, day) instead, each
 * batch made one index dive per employee into the whole history. Days only grow, so an entry
 * goes in at the index's end.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('popug_entries', (t) => {
    t.index(['day', 'user_id', 'amount'], 'popug_entries_day_user');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('popug_entries', (t) => {
    t.dropIndex(['day', 'user_id', 'amount'], 'popug_entries_day_user');
  });
}
