import type { Knex } from 'knex';
import { refuseWhilePending } from '../pendingEvents.ts';

/**
 * US-170, contract: the manager's name and e-mail leave the hiring tables. Refused while
 * ReviewerAssigned v0 events (the ones carrying them) are still to be consumed.
 */
export async function up(knex: Knex): Promise<void> {
  await refuseWhilePending(knex, '0025_hiring_reviewer_pii_drop', 'ReviewerAssigned', 0);
  await knex.schema.alterTable('hiring_reviewers', (t) => {
    t.dropColumn('reviewer_name');
    t.dropColumn('reviewer_email');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('hiring_reviewers', (t) => {
    t.string('reviewer_name', 255).nullable();
    t.string('reviewer_email', 255).nullable();
  });
}
