import type { Knex } from 'knex';
import * as platform from './0001_platform.ts';
import * as ledger from './0002_ledger.ts';
import * as chat from './0003_chat.ts';
import * as bonus from './0004_bonus.ts';
import * as notifications from './0005_notifications.ts';
import * as outboxIndexes from './0006_outbox_indexes.ts';
import * as connectionsCreated from './0007_connections_created.ts';
import * as outboxOneIndex from './0008_outbox_one_index.ts';
import * as outboxEventName from './0009_outbox_event_name.ts';
import * as identifiersBin from './0010_identifiers_bin.ts';
import * as outboxDead from './0012_outbox_dead.ts';
import * as outboxTrace from './0013_outbox_trace.ts';
import * as popug from './0015_popug.ts';
import * as hiring from './0020_hiring.ts';
import * as hiringKnowledgeArea from './0021_hiring_knowledge_area.ts';
import * as hiringKnowledgeAreaBackfill from './0022_hiring_knowledge_area_backfill.ts';
import * as hiringReviewerPiiNullable from './0023_hiring_reviewer_pii_nullable.ts';
import * as hiringKnowledgeAreaRequired from './0024_hiring_knowledge_area_required.ts';
import * as hiringReviewerPiiDrop from './0025_hiring_reviewer_pii_drop.ts';
import * as popugReportMails from './0026_popug_report_mails.ts';
import * as popugAssignees from './0027_popug_assignees.ts';
import * as popugPayoutsDrop from './0028_popug_payouts_drop.ts';
import * as popugEntriesDay from './0029_popug_entries_day.ts';

export interface Migration {
  name: string;
  up: (knex: Knex) => Promise<void>;
  down: (knex: Knex) => Promise<void>;
}

/** Every migration, in order. Append; never reorder or edit one that has shipped. */
export const migrations: Migration[] = [
  { name: '0001_platform', ...platform },
  { name: '0002_ledger', ...ledger },
  { name: '0003_chat', ...chat },
  { name: '0004_bonus', ...bonus },
  { name: '0005_notifications', ...notifications },
  { name: '0006_outbox_indexes', ...outboxIndexes },
  { name: '0007_connections_created', ...connectionsCreated },
  { name: '0008_outbox_one_index', ...outboxOneIndex },
  { name: '0009_outbox_event_name', ...outboxEventName },
  { name: '0010_identifiers_bin', ...identifiersBin },
  { name: '0012_outbox_dead', ...outboxDead },
  { name: '0013_outbox_trace', ...outboxTrace },
  { name: '0015_popug', ...popug },
  { name: '0020_hiring', ...hiring },
  { name: '0021_hiring_knowledge_area', ...hiringKnowledgeArea },
  { name: '0022_hiring_knowledge_area_backfill', ...hiringKnowledgeAreaBackfill },
  { name: '0023_hiring_reviewer_pii_nullable', ...hiringReviewerPiiNullable },
  { name: '0024_hiring_knowledge_area_required', ...hiringKnowledgeAreaRequired },
  { name: '0025_hiring_reviewer_pii_drop', ...hiringReviewerPiiDrop },
  { name: '0026_popug_report_mails', ...popugReportMails },
  { name: '0027_popug_assignees', ...popugAssignees },
  { name: '0028_popug_payouts_drop', ...popugPayoutsDrop },
  { name: '0029_popug_entries_day', ...popugEntriesDay },
];
