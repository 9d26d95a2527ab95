import type { Knex } from 'knex';

/**
 * One secondary index on the outbox instead of three. Each row is inserted once and marked done
 * once (batched queues' rows skip the `relayed` update), and every index holding `status` is
 * rewritten on that mark: (status, id), (queue, status, id) and (event_id) made an insert four
 * index writes and a done mark five. (status, queue, id) serves every reader: a queue's claim
 * (status + queue, by id), the relay (pending rows, few, sorted), the reconciler (relayed rows),
 * the backlog metric and the prune (done rows). Nothing looks rows up by event_id.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.index(['status', 'queue', 'id'], 'outbox_status_queue_id');
  });
  await knex.schema.alterTable('outbox', (t) => {
    t.dropIndex(['status', 'id'], 'outbox_status_id');
    t.dropIndex(['queue', 'status', 'id'], 'outbox_queue_status_id');
    t.dropIndex(['event_id'], 'outbox_event');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.index(['status', 'id'], 'outbox_status_id');
    t.index(['queue', 'status', 'id'], 'outbox_queue_status_id');
    t.index(['event_id'], 'outbox_event');
  });
  await knex.schema.alterTable('outbox', (t) => {
    t.dropIndex(['status', 'queue', 'id'], 'outbox_status_queue_id');
  });
}
