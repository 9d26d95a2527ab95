import type { Knex } from 'knex';
import { refuseWhilePending } from '../pendingEvents.ts';

// '' is src/domain/hiring/knowledgeArea.ts's NO_KNOWLEDGE_AREA, written out: a shipped migration must not change with the code.
const NO_KNOWLEDGE_AREA = '';

/**
 * US-160, contract: knowledge_area becomes NOT NULL. Refused while ExerciseCompleted v0 events are
 * still to be consumed (see refuseWhilePending): they were written by producers that predate the
 * column. Rows recorded since the backfill without one get the "not known" value first.
 */
export async function up(knex: Knex): Promise<void> {
  await refuseWhilePending(knex, '0024_hiring_knowledge_area_required', 'ExerciseCompleted', 0);
  await knex('hiring_attempts').whereNull('knowledge_area').update({ knowledge_area: NO_KNOWLEDGE_AREA });
  await knex.raw(`ALTER TABLE hiring_attempts MODIFY knowledge_area VARCHAR(64) NOT NULL DEFAULT '${NO_KNOWLEDGE_AREA}'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE hiring_attempts MODIFY knowledge_area VARCHAR(64) NULL');
}
