import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The inbox: every notification a module sent a user, with its push and mail texts.
  await knex.schema.createTable('notifications', (t) => {
    t.bigIncrements('id').primary();
    t.string('user_id', 64).notNullable();
    t.string('kind', 64).notNullable();
    t.string('title', 255).notNullable();
    t.string('body', 1000).notNullable();
    t.string('mail_subject', 255).notNullable();
    t.text('mail_body').notNullable();
    t.text('data').notNullable();
    t.dateTime('created_at', { precision: 3 }).notNullable();
    t.index(['user_id', 'id'], 'notifications_user_id');
  });

  // Where each notification was delivered (one row per channel that succeeded).
  await knex.schema.createTable('notification_deliveries', (t) => {
    t.bigInteger('notification_id').unsigned().notNullable();
    t.string('channel', 32).notNullable();
    t.integer('attempts').notNullable();
    t.dateTime('delivered_at', { precision: 3 }).notNullable();
    t.primary(['notification_id', 'channel']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('notification_deliveries');
  await knex.schema.dropTableIfExists('notifications');
}
