import type { Knex } from 'knex';

/** US-170, expand: the reviewer's name and e-mail become optional; the hiring side stops writing them. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE hiring_reviewers MODIFY reviewer_name VARCHAR(255) NULL, MODIFY reviewer_email VARCHAR(255) NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex('hiring_reviewers').whereNull('reviewer_name').update({ reviewer_name: '' });
  await knex('hiring_reviewers').whereNull('reviewer_email').update({ reviewer_email: '' });
  await knex.raw('ALTER TABLE hiring_reviewers MODIFY reviewer_name VARCHAR(255) NOT NULL, MODIFY reviewer_email VARCHAR(255) NOT NULL');
}
