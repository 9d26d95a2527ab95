import type { Knex } from 'knex';

/**
 * The request an outbox row was written for: its id and, when one came in, its W3C traceparent.
 * The relay and the runners put them in job data and log lines, so a request is followed into
 * every job it caused. Nullable: rows written by schedules and the reconciler have none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.string('request_id', 128).nullable();
    t.string('traceparent', 55).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('request_id');
    t.dropColumn('traceparent');
  });
}
