import type { Knex } from 'knex';

/**
 * One row per report mail to send: written with the payout's inbox reports by the PaymentMade
 * listener (one statement per payout batch), marked when the mail left or was given up. The mail
 * job checks it, so a payout is mailed once however often its job runs; a row still unsent after
 * Redis lost its job is queued again by the next payout run (jobs/popug/payout-run.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('popug_report_mails', (t) => {
    t.string('entry_id', 64).primary();
    // The outbox batch that queued it: a rerun whose queueing was lost finds its mails by it.
    t.bigInteger('batch_key').unsigned().notNullable();
    t.string('user_id', 36).notNullable();
    t.date('day').notNullable();
    t.bigInteger('amount').notNullable();
    t.dateTime('queued_at', { precision: 3 }).notNullable();
    t.dateTime('sent_at', { precision: 3 }).nullable();
    t.dateTime('given_up_at', { precision: 3 }).nullable();
    t.string('last_error', 500).nullable();
    t.index(['batch_key']);
    t.index(['sent_at', 'given_up_at', 'queued_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('popug_report_mails');
}
