import { Type, type TSchema } from '@sinclair/typebox';
import { balanceOf, topUp } from '../../domain/chat/accounts.ts';
import { checkDonation, createDonations, getDonation, type DonateInput } from '../../domain/chat/donations.ts';
import { createGoal, listGoals } from '../../domain/chat/goals.ts';
import { checkMessageText, postMessage } from '../../domain/chat/messages.ts';
import { ensureParticipant, ensureParticipantIn, findParticipant, findRoom, type Participant } from '../../domain/chat/participants.ts';
import { readHistory, type FeedDeps } from '../../domain/chat/roomFeed.ts';
import { currentSponsor } from '../../domain/chat/sponsors.ts';
import { AddNewConnection } from '../../domain/chat/events.ts';
import { parseMoney } from '../../domain/ledger/index.ts';
import { withTransaction, type Trx } from '../../platform/db.ts';
import { NotFound } from '../../platform/errors.ts';
import { GroupCommit } from '../../platform/groupCommit.ts';
import { LowercaseUuid } from '../../platform/ids.ts';
import { oncePer } from '../../platform/oncePer.ts';
import { takeRateToken, type RateLimitDeps } from '../../platform/rateLimit.ts';
import { publishEvent } from '../../../queues/outbox/writer.ts';
import type { Services } from '../../services.ts';
import { saveIdempotent, type IdempotencyRequest } from '../idempotency.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

// The room id is the model's uuid, lowercase (one spelling per room: it builds Redis keys).
const Room = LowercaseUuid;
// A JSON number or a decimal string; parseMoney refuses everything else with 400 bad_amount.
const Money = Type.Union([Type.Number(), Type.String({ maxLength: 32 })], { description: 'decimal, > 0, at most two fraction digits, at most 1000000.00' });
// The seed sends "false" as a string; a boolean is the normal form.
const Flag = Type.Union([Type.Boolean(), Type.Literal('true'), Type.Literal('false')]);
const Text = Type.String({ maxLength: 60_000 });
const MoneyOut = Type.String({ pattern: '^-?\\d+\\.\\d{2}$' });

const strict = <T extends Record<string, TSchema>>(props: T) => Type.Object(props, { additionalProperties: false });
const ok = (props: Record<string, TSchema>) => Type.Object({ success: Type.Literal(true), ...props });
const flag = (value: boolean | 'true' | 'false') => value === true || value === 'true';

const RoomQuery = strict({ room: Room });
const MessageBody = strict({ room: Room, message: Text, is_public: Flag });
const DonateBody = strict({ room: Room, sum: Money, message: Type.Optional(strict({ message: Text, is_public: Flag })) });
const ConnectionBody = strict({ connection_id: Type.String({ minLength: 1, maxLength: 64 }) });
const GoalBody = strict({ name: Type.String({ minLength: 1, maxLength: 128 }), require_sum: Money });
const TopUpBody = strict({ user: LowercaseUuid, sum: Money, role: Type.Optional(Type.Union([Type.Literal('client'), Type.Literal('model')])) });
const DonationParams = strict({ id: Type.String({ minLength: 1, maxLength: 36 }) });

const ChatEventOut = Type.Object({ type: Type.String(), event_id: Type.String(), room: Type.String(), at: Type.String(), data: Type.Object({}) });

function feed(services: Services): FeedDeps {
  const { redis, db, config } = services;
  return { redis, db, prefix: config.queuePrefix, historySize: config.chat.historySize, historyWindowMs: config.chat.historyWindowMs };
}

const limits = (services: Services): RateLimitDeps => ({ redis: services.redis, prefix: services.config.queuePrefix });

interface DonationAccept {
  donation: DonateInput;
  idempotency: IdempotencyRequest | null;
}

// One group commit per api process (per services): donations accepted together share a transaction.
const donationAccepts = oncePer(
  (services: Services) =>
    new GroupCommit<DonationAccept, { donation_id: string }>(
      (fn, trace) => services.outbox.transaction(fn, { trace }),
      async (trx, items, traces) => {
        const created = await createDonations(trx, items.map((i) => i.donation), traces);
        for (const [k, { idempotency }] of items.entries()) if (idempotency) await saveIdempotent(trx, idempotency, 201, created[k]!);
        return created;
      },
      { concurrency: services.config.chat.acceptTransactions, maxBatch: 100 },
    ),
);

async function roomOf(services: Services, room: string): Promise<Participant> {
  const owner = await findRoom(services.db, room);
  if (!owner) throw new NotFound('no such room', 'room_not_found');
  return owner;
}

/** Top-ups go to the named role's wallet; without one, to the viewer, else the model, else a new viewer. */
async function payee(trx: Trx, user: string, role: 'client' | 'model' | undefined): Promise<Participant> {
  if (role) return ensureParticipantIn(trx, role, user);
  return (await findParticipant(trx, 'client', user)) ?? (await findParticipant(trx, 'model', user)) ?? ensureParticipantIn(trx, 'client', user);
}

export function chatRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/chat/message/add', tag: 'chat', auth: ['client', 'model'],
      summary: 'Write a message in a room; private ones reach only the sender and the room owner',
      body: MessageBody,
      responses: { 201: { description: 'accepted; SaveMessage stores it and tells the room', schema: ok({ event_id: Type.String() }) }, 429: { description: 'rate_limited (CHAT_MESSAGES_PER_MINUTE)' } },
      handler: async ({ body, claims, services, trace }) => {
        const { db, config } = services;
        checkMessageText(body.message, config.chat.messageMaxLength);
        await takeRateToken(limits(services), 'chat:message', claims.sub, config.chat.messagesPerMinute);
        await roomOf(services, body.room);
        const sender = await ensureParticipant(db, claims);
        const result = await services.outbox.transaction((trx) => postMessage(trx, { sender, room: body.room, message: body.message, isPublic: flag(body.is_public) }), { trace });
        return { status: 201, body: result };
      },
    }),
    defineRoute({
      method: 'post', path: '/chat/donat/add', aliases: ['/chat/donate/add'], tag: 'chat', auth: ['client'], idempotent: true,
      summary: "Donate to a room; the money moves in TransferMoney and GET /chat/donations/:id tells the outcome",
      body: DonateBody,
      responses: {
        201: { description: 'the pending donation', schema: ok({ donation_id: Type.String() }) },
        404: { description: 'no such room' },
        422: { description: 'self_donation' },
        429: { description: 'rate_limited (CHAT_DONATIONS_PER_MINUTE)' },
      },
      handler: async ({ body, claims, services, idempotency, trace }) => {
        const { db, config } = services;
        const sum = parseMoney(body.sum);
        const message = body.message ? { message: body.message.message, isPublic: flag(body.message.is_public) } : undefined;
        if (message) checkMessageText(message.message, config.chat.messageMaxLength);
        await takeRateToken(limits(services), 'chat:donation', claims.sub, config.chat.donationsPerMinute);
        const room = await roomOf(services, body.room);
        const sender = await ensureParticipant(db, claims);
        const donation = { sender, room, sum, message };
        checkDonation(donation);
        const result = await donationAccepts(services).submit({ donation, idempotency }, trace);
        return { status: 201, body: result };
      },
    }),
    defineRoute({
      method: 'get', path: '/chat/donations/:id', tag: 'chat', auth: ['client', 'model'],
      summary: "A donation's status, for its sender and the room owner only",
      params: DonationParams,
      responses: {
        200: { description: 'the donation', schema: ok({ donation_id: Type.String(), room: Type.String(), status: Type.String(), reason: Type.Optional(Type.String()), sum: MoneyOut, created_at: Type.String() }) },
        403: { description: 'not the sender or the room owner' },
        404: { description: 'no such donation' },
      },
      handler: async ({ params, claims, services }) => ({ body: { ...(await getDonation(services.db, params.id, claims.sub)) } }),
    }),
    defineRoute({
      method: 'post', path: '/chat/connection/add', tag: 'chat', auth: ['client', 'model'],
      summary: "Bind an external ws gateway's connection id to the caller (AddNewConnection → SaveConnection)",
      body: ConnectionBody,
      responses: { 201: { description: 'accepted', schema: ok({ event_id: Type.String() }) }, 429: { description: 'rate_limited (CHAT_CONNECTIONS_PER_MINUTE)' } },
      handler: async ({ body, claims, services, trace }) => {
        await takeRateToken(limits(services), 'chat:connection', claims.sub, services.config.chat.connectionsPerMinute);
        const participant = await ensureParticipant(services.db, claims);
        const envelope = await services.outbox.transaction((trx) =>
          publishEvent(trx, AddNewConnection, { connection_id: body.connection_id, entity_uuid: participant.uuid, type: participant.type }),
          { trace },
        );
        return { status: 201, body: { event_id: envelope.event_id } };
      },
    }),
    defineRoute({
      method: 'get', path: '/chat/event/history', tag: 'chat', auth: ['client', 'model'],
      summary: 'The last 20 events of the last 10 minutes the caller may see, oldest first',
      query: RoomQuery,
      responses: { 200: { description: 'events', schema: ok({ events: Type.Array(ChatEventOut) }) }, 404: { description: 'no such room' }, 429: { description: 'rate_limited (CHAT_HISTORY_READS_PER_MINUTE)' } },
      handler: async ({ query, claims, services }) => {
        // A read, but one that may rebuild the room's Redis history from MySQL.
        await takeRateToken(limits(services), 'chat:history', claims.sub, services.config.chat.historyReadsPerMinute);
        await roomOf(services, query.room);
        return { body: { events: await readHistory(feed(services), query.room, claims.sub, services.clock.now()) } };
      },
    }),
    defineRoute({
      method: 'post', path: '/chat/goals', tag: 'chat', auth: ['model'],
      summary: "Create a goal in the caller's room; every later donation adds to it",
      body: GoalBody,
      responses: { 201: { description: 'created', schema: ok({ goal_id: Type.Integer() }) }, 429: { description: 'rate_limited (CHAT_GOALS_PER_MINUTE)' } },
      handler: async ({ body, claims, services }) => {
        const requireSum = parseMoney(body.require_sum);
        await takeRateToken(limits(services), 'chat:goal', claims.sub, services.config.chat.goalsPerMinute);
        const owner = await ensureParticipant(services.db, claims);
        const result = await withTransaction(services.db, (trx) => createGoal(trx, owner.uuid, body.name, requireSum));
        return { status: 201, body: result };
      },
    }),
    defineRoute({
      method: 'get', path: '/chat/goals', tag: 'chat', auth: ['client', 'model'],
      summary: "A room's goals with their sum and require_sum",
      query: RoomQuery,
      responses: { 200: { description: 'goals', schema: ok({ goals: Type.Array(Type.Object({ goal_id: Type.Integer(), name: Type.String(), sum: MoneyOut, require_sum: MoneyOut, reached: Type.Boolean() })) }) } },
      handler: async ({ query, services }) => {
        await roomOf(services, query.room);
        return { body: { goals: await listGoals(services.db, query.room) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/chat/sponsor', tag: 'chat', auth: ['client', 'model'],
      summary: "The room's current sponsor (its top donor), display fields only",
      query: RoomQuery,
      responses: { 200: { description: 'the sponsor, or null', schema: ok({ sponsor: Type.Union([Type.Object({ uuid: Type.String(), name: Type.Union([Type.String(), Type.Null()]), total: MoneyOut, since: Type.String() }), Type.Null()]) }) } },
      handler: async ({ query, services }) => {
        await roomOf(services, query.room);
        return { body: { sponsor: await currentSponsor(services.db, query.room) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/accounts/me', tag: 'chat', auth: ['client', 'model'],
      summary: "The caller's wallet balance (created on first sight)",
      responses: { 200: { description: 'balance', schema: ok({ uuid: Type.String(), type: Type.String(), account_id: Type.Integer(), balance: MoneyOut }) } },
      handler: async ({ claims, services }) => ({ body: { ...(await balanceOf(services.db, await ensureParticipant(services.db, claims))) } }),
    }),
    defineRoute({
      method: 'post', path: '/accounts/top-up', tag: 'chat', auth: ['admin'], idempotent: true,
      summary: "Put money on a user's wallet from the system account (all balances still sum to zero)",
      body: TopUpBody,
      responses: { 201: { description: 'applied', schema: ok({ transfer_id: Type.Integer(), balance: MoneyOut }) } },
      handler: async ({ body, services, idempotency }) => {
        const sum = parseMoney(body.sum);
        const result = await withTransaction(services.db, async (trx) => {
          const applied = await topUp(trx, await payee(trx, body.user, body.role), sum);
          if (idempotency) await saveIdempotent(trx, idempotency, 201, applied);
          return applied;
        });
        return { status: 201, body: result };
      },
    }),
  ];
}
