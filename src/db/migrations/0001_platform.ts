import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The transactional outbox: written in the same transaction as domain rows, relayed to BullMQ
  // with jobId "ob-<id>", marked done by the processor in the same transaction as its effect.
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id').primary();
    t.string('queue', 128).notNullable();
    t.string('job_name', 128).notNullable();
    t.integer('payload_version').notNullable().defaultTo(1);
    t.text('payload', 'longtext').notNullable();
    t.string('event_id', 64).nullable();
    t.enu('status', ['pending', 'relayed', 'done']).notNullable().defaultTo('pending');
    t.dateTime('available_at', { precision: 3 }).notNullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.dateTime('relayed_at', { precision: 3 }).nullable();
    t.dateTime('done_at', { precision: 3 }).nullable();
    t.integer('relay_count').notNullable().defaultTo(0);
    t.index(['status', 'id'], 'outbox_status_id');
    t.index(['status', 'relayed_at'], 'outbox_status_relayed');
    t.index(['event_id'], 'outbox_event');
    // Batch runners claim the waiting rows of one queue (queues/outbox/runner.ts).
    t.index(['queue', 'status', 'id'], 'outbox_queue_status_id');
  });

  // Idempotency-Key answers: the same key from the same caller replays the first answer.
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.string('caller', 64).notNullable();
    t.string('scope', 64).notNullable();
    t.string('idem_key', 128).notNullable();
    t.string('request_hash', 64).notNullable();
    t.integer('status_code').nullable();
    t.text('response', 'mediumtext').nullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.primary(['caller', 'scope', 'idem_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('idempotency_keys');
  await knex.schema.dropTableIfExists('outbox');
}
