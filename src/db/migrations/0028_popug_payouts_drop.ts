import type { Knex } from 'knex';

/**
 * A payout's record is its audit entry: `popug_entries` row of kind `payout` whose id is derived
 * from (payout, employee, day), beside its ledger transfer with key `payout:<user>:<day>`; both
 * refuse a second payment. `popug_payouts` held the same facts a third time, nothing read it, and
 * every payout batch paid for its multi-row INSERT.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.dropTable('popug_payouts');
}

/** Back to the table, filled from the payout entries. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.createTable('popug_payouts', (t) => {
    t.string('user_id', 36).notNullable();
    t.date('day').notNullable();
    t.bigInteger('amount').notNullable();
    t.string('entry_id', 64).notNullable();
    t.dateTime('paid_at', { precision: 3 }).notNullable();
    t.primary(['user_id', 'day']);
  });
  await knex.raw("INSERT INTO popug_payouts (user_id, day, amount, entry_id, paid_at) SELECT user_id, day, -amount, entry_id, at FROM popug_entries WHERE kind = 'payout'");
}
