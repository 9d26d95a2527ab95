import type { Knex } from 'knex';

/** The prune job deletes connection rows by age (CONNECTION_RETENTION): an index, not a scan. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('connections', (t) => {
    t.index(['created_at'], 'connections_created');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('connections', (t) => {
    t.dropIndex(['created_at'], 'connections_created');
  });
}
