import { Type } from '@sinclair/typebox';
import { defineEvent, type EventDef } from '../../../queues/outbox/envelope.ts';
import { EventRegistry, type RegisteredEvent } from './registry.ts';
import { chatEvents } from '../chat/events.ts';
import { bonusEvents } from '../bonus/events.ts';
import { SeenFact } from '../notify/seenFact.ts';
import {
  ExerciseCompletedV0,
  ExerciseCompletedV1,
  ExerciseCreated,
  ExerciseFailed,
  ExerciseUpdated,
  ReviewerAssignedV0,
  ReviewerAssignedV1,
  upcastExerciseCompletedV0,
  upcastReviewerAssignedV0,
} from '../hiring/events.ts';
import { AccountCreated, AccountRoleChanged, PaymentMade, REPORTS_QUEUE, TaskAssigned, TaskCompleted, TaskCreated, TaskCreatedV1, upcastTaskCreatedV1 } from '../popug/events.ts';

/**
 * The event registry: every event Conveyor produces or consumes, declared once — its versions
 * (each with its payload schema), its topic, and an upcaster from each version to the next.
 * A new version is appended here with its upcaster, then `npm run schemas` writes its document
 * under schemas/ for review (docs/EVENTS.md has the playbook).
 */

/** A module's single-version events, all on the module's topic; `carriers` names the listener that appends each. */
function singles(defs: readonly EventDef[], topic: string, fromOutside = false, carriers: Record<string, string> = {}): RegisteredEvent[] {
  return defs.map((def) => ({ name: def.name, topic, versions: [def], upcasters: {}, fromOutside, ...(carriers[def.name] ? { appendedBy: carriers[def.name] } : {}) }));
}

/**
 * Chat events are many (a donation makes two): the one listener each event always reaches appends
 * it to domain.chat in its own batch transaction, instead of a topic-append row per event.
 */
const chatCarriers: Record<string, string> = {
  AddNewConnection: 'chat.save-connection',
  AddNewMessage: 'chat.save-message',
  AddNewDonate: 'chat.transfer-money',
  ReceiveMoney: 'chat.update-goal',
  EndGoal: 'chat.broadcast-goal',
  NewSponsor: 'chat.broadcast-sponsor',
};

/** mark-notify's fact as its topic integrations and HTTP consumers receive it (not an outbox event). */
export const NotificationSeen = defineEvent({
  name: 'NotificationSeen',
  version: 1,
  description: 'A client or driver saw a notification (mark-notify); delivered to the integration that owns its tag',
  schema: Type.Object(
    { tag: SeenFact.properties.tag, id: SeenFact.properties.id, kind: SeenFact.properties.kind, identity: SeenFact.properties.identity, seen_at: SeenFact.properties.seen_at },
    { additionalProperties: false },
  ),
  listeners: [],
});

export const registeredEvents: readonly RegisteredEvent[] = [
  ...singles(chatEvents, 'domain.chat', false, chatCarriers),
  ...singles(bonusEvents, 'domain.bonus', true),
  ...singles([NotificationSeen], 'domain.notify'),
  { name: 'ExerciseCreated', topic: 'datarep.exercise', versions: [ExerciseCreated], upcasters: {}, fromOutside: true },
  { name: 'ExerciseUpdated', topic: 'datarep.exercise', versions: [ExerciseUpdated], upcasters: {}, fromOutside: true },
  {
    name: 'ExerciseCompleted',
    topic: 'domain.candidate_attempt',
    versions: [ExerciseCompletedV0, ExerciseCompletedV1],
    upcasters: { 0: upcastExerciseCompletedV0 },
    fromOutside: true,
  },
  { name: 'ExerciseFailed', topic: 'domain.candidate_attempt', versions: [ExerciseFailed], upcasters: {}, fromOutside: true },
  { name: 'ReviewerAssigned', topic: 'domain.hiring', versions: [ReviewerAssignedV0, ReviewerAssignedV1], upcasters: { 0: upcastReviewerAssignedV0 } },
  // A payout batch's PaymentMade events go out as one row, to the reports, which append them.
  ...singles([AccountCreated, AccountRoleChanged, TaskAssigned, TaskCompleted, PaymentMade], 'domain.popug', false, { PaymentMade: REPORTS_QUEUE }),
  // The classic popug change: v2 splits jira_id out of v1's "[JIRA-123] title".
  { name: 'TaskCreated', topic: 'domain.popug', versions: [TaskCreatedV1, TaskCreated], upcasters: { 1: upcastTaskCreatedV1 } },
];

/** Built once per process: documents generated and validators compiled here. */
export const eventRegistry = new EventRegistry(registeredEvents);

/** Every version of every event other services may post to POST /events. */
export const upstreamEvents: readonly EventDef[] = registeredEvents.filter((e) => e.fromOutside).flatMap((e) => e.versions);
