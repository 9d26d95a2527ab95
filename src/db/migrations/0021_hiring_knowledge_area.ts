import type { Knex } from 'knex';

/** US-160, expand: attempts get a nullable knowledge_area, filled from ExerciseCompleted v1. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('hiring_attempts', (t) => {
    t.string('knowledge_area', 64).nullable().after('title');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('hiring_attempts', (t) => {
    t.dropColumn('knowledge_area');
  });
}
