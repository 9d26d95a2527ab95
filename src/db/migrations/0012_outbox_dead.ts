import type { Knex } from 'knex';

/**
 * A terminal `dead` state for outbox rows whose job failed for good (attempts spent, a permanent
 * error, a payload that breaks its contract): before it such a row stayed `relayed` forever and
 * looked like work in flight. The row keeps how many attempts its job made, the last error and
 * when it died; a retry of its job (Bull Board) or a revival (queues/outbox/dead.ts) runs it again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE outbox MODIFY status ENUM('pending', 'relayed', 'done', 'dead') NOT NULL DEFAULT 'pending'");
  await knex.schema.alterTable('outbox', (t) => {
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error').nullable();
    t.dateTime('dead_at', { precision: 3 }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('attempts');
    t.dropColumn('last_error');
    t.dropColumn('dead_at');
  });
  // Dead rows go back to `relayed`, the state they used to stay in.
  await knex('outbox').where('status', 'dead').update({ status: 'relayed' });
  await knex.raw("ALTER TABLE outbox MODIFY status ENUM('pending', 'relayed', 'done') NOT NULL DEFAULT 'pending'");
}
