import type { Knex } from 'knex';

/**
 * TransferMoney settles a room's pending donations in batches (one lock of the room's wallet for
 * many credits); this index finds them without scanning the room's donation history.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX donations_room_pending ON donations (room, status, created_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX donations_room_pending ON donations');
}
