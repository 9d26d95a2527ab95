import type { Knex } from 'knex';

/**
 * The webcam chat (seed 002). A room is a model; its id is the model's uuid, stored as `room`
 * everywhere so that no hot path needs a join. Money lives in the ledger (accounts, transfers).
 */
export async function up(knex: Knex): Promise<void> {
  // Models (room owners) and viewers, created on first sight of a valid token, each with a wallet.
  for (const table of ['users', 'clients']) {
    await knex.schema.createTable(table, (t) => {
      t.bigIncrements('id').primary();
      t.string('uuid', 64).notNullable().unique({ indexName: `${table}_uuid` });
      t.string('name', 128).nullable();
      t.bigInteger('account_id').unsigned().notNullable();
      t.dateTime('created_at', { precision: 3 }).notNullable();
      t.dateTime('updated_at', { precision: 3 }).notNullable();
    });
  }

  // A ws connection id bound to the participant it belongs to (the seed's SaveConnection).
  await knex.schema.createTable('connections', (t) => {
    t.bigIncrements('id').primary();
    t.string('type', 16).notNullable();
    t.string('entity_uuid', 64).notNullable();
    t.string('connection_uuid', 64).notNullable().unique({ indexName: 'connections_connection_uuid' });
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.index(['entity_uuid'], 'connections_entity');
  });

  // One row per AddNewMessage event (event_id unique, so saving twice is impossible).
  await knex.schema.createTable('messages', (t) => {
    t.bigIncrements('id').primary();
    t.string('event_id', 64).notNullable().unique({ indexName: 'messages_event_id' });
    t.string('room', 64).notNullable();
    t.string('sender_uuid', 64).notNullable();
    t.string('sender_type', 16).notNullable();
    t.boolean('is_public').notNullable();
    t.text('value').notNullable();
    t.string('donation_id', 36).nullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.dateTime('updated_at', { precision: 3 }).notNullable();
    t.index(['room', 'id'], 'messages_room');
  });

  // The API writes the donation (pending) with its AddNewDonate event; TransferMoney settles it.
  await knex.schema.createTable('donations', (t) => {
    t.string('id', 36).primary();
    t.string('room', 64).notNullable();
    t.string('sender_uuid', 64).notNullable();
    t.bigInteger('sender_account_id').unsigned().notNullable();
    t.bigInteger('room_account_id').unsigned().notNullable();
    t.bigInteger('sum').notNullable();
    t.boolean('has_message').notNullable().defaultTo(false);
    t.text('message_text').nullable();
    t.boolean('message_public').nullable();
    t.bigInteger('message_id').unsigned().nullable();
    t.enu('status', ['pending', 'completed', 'rejected']).notNullable().defaultTo('pending');
    t.string('reason', 64).nullable();
    t.bigInteger('transfer_id').unsigned().nullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.dateTime('updated_at', { precision: 3 }).notNullable();
    t.index(['room', 'created_at'], 'donations_room');
    t.index(['sender_uuid', 'created_at'], 'donations_sender');
  });
  await knex.raw('ALTER TABLE donations ADD CONSTRAINT donations_positive CHECK (sum > 0)');

  // Goals accumulate every transfer into the room made after they were created.
  await knex.schema.createTable('goals', (t) => {
    t.bigIncrements('id').primary();
    t.string('room', 64).notNullable();
    t.string('name', 128).notNullable();
    t.bigInteger('sum').notNullable().defaultTo(0);
    t.bigInteger('require_sum').notNullable();
    t.dateTime('reached_at', { precision: 3 }).nullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.dateTime('updated_at', { precision: 3 }).notNullable();
    t.index(['room', 'id'], 'goals_room');
  });

  // What each donor has given a room. The (room, total DESC) index makes the top donor one index
  // dive however long the history is; donations are never scanned for it.
  await knex.schema.createTable('donor_totals', (t) => {
    t.string('room', 64).notNullable();
    t.string('client_uuid', 64).notNullable();
    t.bigInteger('total').notNullable();
    t.dateTime('updated_at', { precision: 3 }).notNullable();
    t.primary(['room', 'client_uuid']);
  });
  await knex.raw('CREATE INDEX donor_totals_top ON donor_totals (room, total DESC, client_uuid)');

  // The room's sponsor as CalculateNewSponsor last decided it (locked per room, so decisions are
  // serial); `seq` orders the NewSponsor events, whose history SaveNewSponsor keeps in `sponsors`.
  await knex.schema.createTable('room_sponsor', (t) => {
    t.string('room', 64).primary();
    t.string('client_uuid', 64).nullable();
    t.bigInteger('total').notNullable().defaultTo(0);
    t.integer('seq').unsigned().notNullable().defaultTo(0);
    t.dateTime('updated_at', { precision: 3 }).notNullable();
  });
  await knex.schema.createTable('sponsors', (t) => {
    t.bigIncrements('id').primary();
    t.string('room', 64).notNullable();
    t.bigInteger('user_id').unsigned().notNullable();
    t.bigInteger('client_id').unsigned().notNullable();
    t.string('client_uuid', 64).notNullable();
    t.bigInteger('total').notNullable();
    t.integer('seq').unsigned().notNullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.dateTime('updated_at', { precision: 3 }).notNullable();
    t.unique(['room', 'seq'], { indexName: 'sponsors_room_seq' });
  });

  // Every event a room shows, in one table: the source the Redis history list is rebuilt from.
  await knex.schema.createTable('chat_events', (t) => {
    t.bigIncrements('id').primary();
    t.string('event_id', 64).notNullable().unique({ indexName: 'chat_events_event_id' });
    t.string('room', 64).notNullable();
    t.string('type', 32).notNullable();
    t.dateTime('at', { precision: 3 }).notNullable();
    t.text('data', 'mediumtext').notNullable();
    t.text('audience').nullable();
    // The outbox row of the job that wrote it, so a redelivered job can publish it again.
    t.bigInteger('outbox_id').unsigned().nullable();
    t.index(['room', 'id'], 'chat_events_room');
    t.index(['outbox_id'], 'chat_events_outbox');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['chat_events', 'sponsors', 'room_sponsor', 'donor_totals', 'goals', 'donations', 'messages', 'connections', 'clients', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
