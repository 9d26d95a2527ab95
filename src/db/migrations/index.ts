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
import * as popug from './0015_popug.ts';

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
  { name: '0015_popug', ...popug },
];
