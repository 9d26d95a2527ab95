import { Type, type Static } from '@sinclair/typebox';
import { defineEvent } from '../../../queues/outbox/envelope.ts';

/**
 * The chat module's domain events and their listener jobs (seed 002's listener map, with
 * DESIGN.md's deviation: goal, sponsor and the donation broadcast react to ReceiveMoney, i.e. to
 * money that actually moved). Listener names are queue names; queues/contracts/chat.ts checks them.
 */

const Uuid = Type.String({ minLength: 1, maxLength: 64 });
const Minor = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'minor units (cents)' });
const AccountId = Type.Integer({ minimum: 1 });
const ParticipantType = Type.Union([Type.Literal('client'), Type.Literal('model')]);
const Name = Type.Union([Type.String({ maxLength: 128 }), Type.Null()]);
const Attached = Type.Object({ message: Type.String({ maxLength: 60_000 }), is_public: Type.Boolean() }, { additionalProperties: false });

export const AddNewConnection = defineEvent({
  name: 'AddNewConnection',
  version: 1,
  description: 'A ws connection id was announced for a participant (POST /chat/connection/add)',
  schema: Type.Object({ connection_id: Uuid, entity_uuid: Uuid, type: ParticipantType }, { additionalProperties: false }),
  listeners: ['chat.save-connection'],
});

export const AddNewMessage = defineEvent({
  name: 'AddNewMessage',
  version: 1,
  description: 'A participant wrote a message in a room; saved, kept in history and sent to the room',
  schema: Type.Object(
    { room: Uuid, sender_uuid: Uuid, sender_type: ParticipantType, sender_name: Name, message: Type.String({ maxLength: 60_000 }), is_public: Type.Boolean() },
    { additionalProperties: false },
  ),
  listeners: ['chat.save-message'],
});

export const AddNewDonate = defineEvent({
  name: 'AddNewDonate',
  version: 1,
  description: 'A viewer asked to donate to a room; the donation row is pending until TransferMoney settles it',
  schema: Type.Object(
    {
      donation_id: Uuid,
      room: Uuid,
      sender_uuid: Uuid,
      sender_name: Name,
      sum: Minor,
      from_account_id: AccountId,
      to_account_id: AccountId,
      message: Type.Optional(Attached),
    },
    { additionalProperties: false },
  ),
  listeners: ['chat.transfer-money', 'chat.save-donate'],
  // SaveDonate stores an attached message; a donation without one gives it nothing to do.
  wants: (queue, payload) => queue !== 'chat.save-donate' || payload.message !== undefined,
});

export const ReceiveMoney = defineEvent({
  name: 'ReceiveMoney',
  version: 1,
  description: "A donation's money reached the room owner's wallet (exactly once per donation)",
  schema: Type.Object(
    {
      donation_id: Uuid,
      transfer_id: Type.Integer({ minimum: 1 }),
      room: Uuid,
      sender_uuid: Uuid,
      sender_name: Name,
      sum: Minor,
      message: Type.Optional(Attached),
    },
    { additionalProperties: false },
  ),
  // The room hears of it from TransferMoney itself (its `donate` event is recorded in the same
  // transaction, docs/DECISIONS.md 25); a goal it ends is told next, so UpdateGoal is woken first.
  listeners: ['chat.update-goal', 'chat.calculate-sponsor'],
});

export const EndGoal = defineEvent({
  name: 'EndGoal',
  version: 1,
  description: "A room's goal reached its require_sum (once per goal)",
  schema: Type.Object(
    { goal_id: Type.Integer({ minimum: 1 }), room: Uuid, name: Type.String({ maxLength: 128 }), sum: Minor, require_sum: Minor },
    { additionalProperties: false },
  ),
  listeners: ['chat.broadcast-goal'],
});

export const NewSponsor = defineEvent({
  name: 'NewSponsor',
  version: 1,
  description: "A donor overtook the room's sponsor (the top donor by total; ties keep the sponsor)",
  schema: Type.Object(
    { room: Uuid, client_uuid: Uuid, client_name: Name, total: Minor, seq: Type.Integer({ minimum: 1 }) },
    { additionalProperties: false },
  ),
  listeners: ['chat.save-sponsor', 'chat.broadcast-sponsor'],
});

export const chatEvents = [AddNewConnection, AddNewMessage, AddNewDonate, ReceiveMoney, EndGoal, NewSponsor] as const;

export type AddNewConnectionPayload = Static<typeof AddNewConnection.schema>;
export type AddNewMessagePayload = Static<typeof AddNewMessage.schema>;
export type AddNewDonatePayload = Static<typeof AddNewDonate.schema>;
export type ReceiveMoneyPayload = Static<typeof ReceiveMoney.schema>;
export type EndGoalPayload = Static<typeof EndGoal.schema>;
export type NewSponsorPayload = Static<typeof NewSponsor.schema>;
