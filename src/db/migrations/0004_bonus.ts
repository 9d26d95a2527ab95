import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Upstream events seen, by event_id: the unique key is what drops a resent event.
  await knex.schema.createTable('processed_events', (t) => {
    t.string('event_id', 64).primary();
    t.string('event_name', 128).notNullable();
    t.integer('event_version').notNullable();
    // sha256 of name, version and payload: the same id with another payload is refused.
    t.string('payload_hash', 64).notNullable();
    t.dateTime('received_at', { precision: 3 }).notNullable();
    t.index(['received_at'], 'processed_events_received');
  });

  // One row per user: the actor's state. Every change locks this row (SELECT ... FOR UPDATE),
  // so two events for one user never interleave.
  await knex.schema.createTable('bonus_state', (t) => {
    t.string('user_id', 64).primary();
    t.string('state', 16).notNullable();
    t.string('listing_id', 64).nullable();
    t.dateTime('grant_at', { precision: 3 }).nullable();
    t.integer('hold_seq').notNullable().defaultTo(0);
    t.string('yandex_uid', 128).nullable();
    t.dateTime('last_grant_at', { precision: 3 }).nullable();
    t.bigInteger('points_granted').notNullable().defaultTo(0);
    t.string('problems', 255).notNullable().defaultTo('');
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.dateTime('updated_at', { precision: 3 }).notNullable();
    // The link re-check pages through waiting users by (state, user_id).
    t.index(['state', 'user_id'], 'bonus_state_state_user');
  });

  // What the actor remembers of each listing (also of listings banned before they were published).
  await knex.schema.createTable('bonus_listings', (t) => {
    t.string('user_id', 64).notNullable();
    t.string('listing_id', 64).notNullable();
    t.string('status', 16).notNullable();
    t.string('failed', 255).notNullable().defaultTo('');
    // produced_at (ms) of the content last applied; older content arriving late is ignored.
    t.bigInteger('content_at').nullable();
    t.dateTime('first_seen_at', { precision: 3 }).notNullable();
    t.dateTime('updated_at', { precision: 3 }).notNullable();
    t.primary(['user_id', 'listing_id']);
    // The fallback candidate: the user's earliest good listing.
    t.index(['user_id', 'status', 'first_seen_at'], 'bonus_listings_user_status');
  });

  // One row per paid bonus; the primary key makes a second grant for a (user, listing) impossible.
  await knex.schema.createTable('bonus_grants', (t) => {
    t.string('user_id', 64).notNullable();
    t.string('listing_id', 64).notNullable();
    t.bigInteger('points').notNullable();
    t.bigInteger('transfer_id').unsigned().notNullable();
    t.string('yandex_uid', 128).notNullable();
    t.dateTime('granted_at', { precision: 3 }).notNullable();
    t.primary(['user_id', 'listing_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('bonus_grants');
  await knex.schema.dropTableIfExists('bonus_listings');
  await knex.schema.dropTableIfExists('bonus_state');
  await knex.schema.dropTableIfExists('processed_events');
}
