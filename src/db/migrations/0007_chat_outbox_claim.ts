import type { Knex } from 'knex';

/**
 * Chat listener jobs claim the waiting outbox rows of their own queue (src/platform/outbox/batch.ts).
 * Without this index that read walks every queue's waiting rows, once per job: quadratic in the
 * backlog, and it dominated the database's CPU under donation load.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX outbox_queue_status_id ON outbox (queue, status, id)');
  // 0006's index served a per-room claim that this per-queue claim replaced; it only cost writes.
  await knex.raw('DROP INDEX donations_room_pending ON donations');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX donations_room_pending ON donations (room, status, created_at)');
  await knex.raw('DROP INDEX outbox_queue_status_id ON outbox');
}
