import type { Knex } from 'knex';
// '' is src/domain/hiring/knowledgeArea.ts's NO_KNOWLEDGE_AREA, written out: a shipped migration must not change with the code.
const NO_KNOWLEDGE_AREA = '';

/**
 * US-160, migrate: attempts recorded before knowledge_area existed get the "not known" value
 * (answered as null), in batches so no long lock is held on a busy table.
 */
export async function up(knex: Knex): Promise<void> {
  for (let n = -1; n !== 0; ) {
    n = await knex('hiring_attempts').whereNull('knowledge_area').limit(1000).update({ knowledge_area: NO_KNOWLEDGE_AREA });
  }
}

export async function down(): Promise<void> {
  // The backfilled rows cannot be told from recorded ones; the column keeps them.
}
