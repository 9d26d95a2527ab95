import type { Knex } from 'knex';

/**
 * An event's outbox rows keep its envelope header in columns instead of repeating it in every
 * listener's payload: `event_name` (set only for such rows) beside `event_id`, `payload_version`
 * (the event version) and `created_at` (produced_at); `payload` holds the event's payload alone.
 * The header was ~140 of a row's ~600 bytes, and outbox inserts were 60 % of the bytes sent to
 * MySQL under bench:donations. Rows written before keep `event_name` NULL and their whole envelope.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.string('event_name', 128).nullable().after('event_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('event_name');
  });
}
