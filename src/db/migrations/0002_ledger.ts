import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One row per (owner, kind). balance is the running total in minor units; the ledger entries
  // are its history and must always add up to it.
  await knex.schema.createTable('accounts', (t) => {
    t.bigIncrements('id').primary();
    t.string('owner_type', 16).notNullable();
    t.string('owner_id', 64).notNullable();
    t.string('kind', 16).notNullable();
    t.bigInteger('balance').notNullable().defaultTo(0);
    t.boolean('allow_negative').notNullable().defaultTo(false);
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.dateTime('updated_at', { precision: 3 }).notNullable();
    t.unique(['owner_type', 'owner_id', 'kind'], { indexName: 'accounts_owner_kind' });
  });
  // The database refuses an overdraft too, should a code path ever skip the check in transferMoney.
  await knex.raw('ALTER TABLE accounts ADD CONSTRAINT accounts_no_overdraft CHECK (allow_negative OR balance >= 0)');

  // One row per applied transfer; the unique idempotency key is what makes a second apply impossible.
  // No foreign keys to accounts on purpose: the row is inserted before the account locks are taken,
  // and an FK check would take shared locks on both accounts first, turning every pair of concurrent
  // transfers on a hot account into an S→X upgrade deadlock. Entries carry the FKs instead.
  await knex.schema.createTable('transfers', (t) => {
    t.bigIncrements('id').primary();
    t.string('idempotency_key', 191).notNullable().unique({ indexName: 'transfers_idempotency_key' });
    t.bigInteger('from_account_id').unsigned().notNullable();
    t.bigInteger('to_account_id').unsigned().notNullable();
    t.bigInteger('amount').notNullable();
    t.string('reason', 64).notNullable();
    t.string('reference', 128).nullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
  });
  await knex.raw(
    'ALTER TABLE transfers ADD CONSTRAINT transfers_positive CHECK (amount > 0), ' +
      'ADD CONSTRAINT transfers_two_accounts CHECK (from_account_id <> to_account_id)',
  );

  // Exactly two per transfer: -amount on the payer, +amount on the payee, each with the balance it left.
  await knex.schema.createTable('ledger_entries', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('transfer_id').unsigned().notNullable();
    t.bigInteger('account_id').unsigned().notNullable();
    t.bigInteger('amount').notNullable();
    t.bigInteger('balance_after').notNullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.index(['account_id', 'id'], 'ledger_entries_account_id');
    t.index(['transfer_id'], 'ledger_entries_transfer_id');
    t.foreign('account_id', 'ledger_entries_account_fk').references('id').inTable('accounts');
    t.foreign('transfer_id', 'ledger_entries_transfer_fk').references('id').inTable('transfers');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ledger_entries');
  await knex.schema.dropTableIfExists('transfers');
  await knex.schema.dropTableIfExists('accounts');
}
