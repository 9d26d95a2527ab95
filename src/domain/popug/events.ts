import { Type, type Static } from '@sinclair/typebox';
import { defineEvent, envelopeSchema, type EventDef } from '../../../queues/outbox/envelope.ts';
import { TOPIC_APPEND_QUEUE } from '../events/topics.ts';

/**
 * Every popug event, with its payload schema, in one place (for the event-schema registry).
 * Listener queues: the tracker's and payments' own consumers (they never call each other), and
 * the report mailer.
 */
export const TRACKER_ACCOUNTS_QUEUE = 'popug.tracker-accounts';
export const PAYMENTS_APPLY_QUEUE = 'popug.payments-apply';
/** PaymentMade's listener: the inbox reports of a payout batch, and its mails queued. */
export const REPORTS_QUEUE = 'popug.reports';
/** One report mail (queued by REPORTS_QUEUE's job). */
export const SEND_REPORT_QUEUE = 'popug.send-report';

export const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
export const PopugRole = Type.Union([Type.Literal('employee'), Type.Literal('manager'), Type.Literal('accountant'), Type.Literal('admin')]);
export type PopugRole = Static<typeof PopugRole>;
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

export const AccountPayload = Type.Object(
  {
    user_id: Uuid,
    role: PopugRole,
    name: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
    email: Type.Union([Type.String({ maxLength: 254 }), Type.Null()]),
    /** Per user, +1 per change: a replica ignores a version older than the one it holds. */
    version: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type AccountPayload = Static<typeof AccountPayload>;

export const AccountCreated = defineEvent({
  name: 'AccountCreated',
  version: 1,
  schema: AccountPayload,
  listeners: [TRACKER_ACCOUNTS_QUEUE, PAYMENTS_APPLY_QUEUE, TOPIC_APPEND_QUEUE],
  description: 'A popug user was created (CUD stream from auth)',
});

export const AccountRoleChanged = defineEvent({
  name: 'AccountRoleChanged',
  version: 1,
  schema: AccountPayload,
  listeners: [TRACKER_ACCOUNTS_QUEUE, PAYMENTS_APPLY_QUEUE, TOPIC_APPEND_QUEUE],
  description: "A popug user's role changed; one who is no longer an employee is never assigned again",
});

export const TaskCreatedV1Payload = Type.Object(
  { task_id: Uuid, title: Type.String({ maxLength: 255 }), description: Type.String({ maxLength: 10_000 }), created_by: Uuid },
  { additionalProperties: false },
);
export type TaskCreatedV1Payload = Static<typeof TaskCreatedV1Payload>;

export const TaskCreatedPayload = Type.Object(
  {
    task_id: Uuid,
    title: Type.String({ maxLength: 255 }),
    jira_id: Type.Union([Type.String({ pattern: '^[A-Z][A-Z0-9]*-[0-9]+$', maxLength: 32 }), Type.Null()]),
    description: Type.String({ maxLength: 10_000 }),
    created_by: Uuid,
  },
  { additionalProperties: false },
);
export type TaskCreatedPayload = Static<typeof TaskCreatedPayload>;

/** v2: jira_id split out of the title (v1 carried it as "[JIRA-123] title"). */
export const TaskCreated = defineEvent({
  name: 'TaskCreated',
  version: 2,
  schema: TaskCreatedPayload,
  listeners: [PAYMENTS_APPLY_QUEUE, TOPIC_APPEND_QUEUE],
  description: 'A task was created (v2: jira_id apart from the title)',
});

/** The v1 form, still accepted from old outbox rows and upcast before payments applies it. */
export const TaskCreatedV1 = defineEvent({
  name: 'TaskCreated',
  version: 1,
  schema: TaskCreatedV1Payload,
  listeners: [PAYMENTS_APPLY_QUEUE, TOPIC_APPEND_QUEUE],
  description: 'A task was created (v1: a Jira id, if any, inside the title as "[JIRA-123] title")',
});

/** v1 → v2: "[POPUG-12] fix the beak" becomes jira_id "POPUG-12", title "fix the beak". */
export function upcastTaskCreatedV1(v1: TaskCreatedV1Payload): TaskCreatedPayload {
  const match = /^\s*\[([A-Z][A-Z0-9]*-[0-9]+)\]\s*(.*)$/s.exec(v1.title);
  const title = match ? match[2]! : v1.title;
  return { task_id: v1.task_id, title, jira_id: match ? match[1]! : null, description: v1.description, created_by: v1.created_by };
}

export const TaskAssignedPayload = Type.Object(
  {
    task_id: Uuid,
    assignee: Uuid,
    /** Names this assignment: a fresh uuid per creation, "<reshuffle_id>" for a reshuffle's. */
    assignment_id: Uuid,
    /** When it was assigned: the fee counts in the payout day of this time (or a later open one). */
    at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type TaskAssignedPayload = Static<typeof TaskAssignedPayload>;

export const TaskAssigned = defineEvent({
  name: 'TaskAssigned',
  version: 1,
  schema: TaskAssignedPayload,
  listeners: [PAYMENTS_APPLY_QUEUE, TOPIC_APPEND_QUEUE],
  description: 'A task was given to an employee (on creation or by a reshuffle): payments debits the fee',
});

export const TaskCompletedPayload = Type.Object(
  { task_id: Uuid, assignee: Uuid, at: Type.String({ format: 'date-time' }) },
  { additionalProperties: false },
);
export type TaskCompletedPayload = Static<typeof TaskCompletedPayload>;

export const TaskCompleted = defineEvent({
  name: 'TaskCompleted',
  version: 1,
  schema: TaskCompletedPayload,
  listeners: [PAYMENTS_APPLY_QUEUE, TOPIC_APPEND_QUEUE],
  description: 'The assignee completed a task: payments credits the reward',
});

export const PaymentMadePayload = Type.Object(
  { user_id: Uuid, day: Day, amount: Type.Integer({ minimum: 1 }), entry_id: Type.String({ pattern: '^[0-9a-f]{64}$' }) },
  { additionalProperties: false },
);
export type PaymentMadePayload = Static<typeof PaymentMadePayload>;

export const PaymentMade = defineEvent({
  name: 'PaymentMade',
  version: 1,
  schema: PaymentMadePayload,
  // The reports append it to domain.popug (its carrier, events/catalog.ts): no topic-append row.
  listeners: [REPORTS_QUEUE],
  description: "An employee's positive balance for a day was paid out (amount in minor units)",
});

export const popugEvents: readonly EventDef[] = [AccountCreated, AccountRoleChanged, TaskCreated, TaskAssigned, TaskCompleted, PaymentMade];

/** What payments' consumer takes: account and task events. */
export const PaymentsEnvelope = Type.Union([
  envelopeSchema(AccountCreated),
  envelopeSchema(AccountRoleChanged),
  envelopeSchema(TaskCreatedV1),
  envelopeSchema(TaskCreated),
  envelopeSchema(TaskAssigned),
  envelopeSchema(TaskCompleted),
]);
export type PaymentsEnvelope = Static<typeof PaymentsEnvelope>;

export const AccountEnvelope = Type.Union([envelopeSchema(AccountCreated), envelopeSchema(AccountRoleChanged)]);
export type AccountEnvelope = Static<typeof AccountEnvelope>;

export const PaymentMadeEnvelope = envelopeSchema(PaymentMade);
export type PaymentMadeEnvelope = Static<typeof PaymentMadeEnvelope>;
