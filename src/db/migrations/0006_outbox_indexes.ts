import type { Knex } from 'knex';

/**
 * Every outbox row changes status twice (relayed, done), and each change moves its entry in every
 * index that holds `status`. (status, relayed_at) served only the reconciler, which finds the few
 * relayed-but-not-done rows as well through (status, id): one index less to rewrite per change.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropIndex(['status', 'relayed_at'], 'outbox_status_relayed');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.index(['status', 'relayed_at'], 'outbox_status_relayed');
  });
}
