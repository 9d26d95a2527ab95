import { ensureAccount } from '../ledger/index.ts';
import { withTransaction, type Db, type Trx } from '../../platform/db.ts';
import { Forbidden } from '../../platform/errors.ts';
import { execute, selectRows, toSafeInt, type Conn } from '../../platform/sql.ts';

export type ParticipantType = 'client' | 'model';

/** A model (table users, owns a room) or a viewer (table clients), with its wallet account. */
export interface Participant {
  id: number;
  uuid: string;
  type: ParticipantType;
  name: string | null;
  accountId: number;
}

/** The claims chat reads from a token. */
export interface ParticipantClaims {
  sub: string;
  role: string;
  name?: string | undefined;
}

const TABLE = { client: 'clients', model: 'users' } as const;

// Participants are never deleted or re-keyed, so a found row can be remembered per pool.
const known = new WeakMap<Db, Map<string, Participant>>();
const MAX_REMEMBERED = 50_000;

function remember(db: Db, p: Participant): Participant {
  let cache = known.get(db);
  if (!cache) known.set(db, (cache = new Map()));
  if (cache.size >= MAX_REMEMBERED) cache.clear();
  cache.set(`${p.type}:${p.uuid}`, p);
  return p;
}

function participantType(role: string): ParticipantType {
  if (role === 'client' || role === 'model') return role;
  throw new Forbidden(`role "${role}" takes no part in chat`, 'forbidden_role');
}

interface Row {
  id: unknown;
  uuid: string;
  name: string | null;
  account_id: unknown;
}

function toParticipant(type: ParticipantType, row: Row): Participant {
  return { id: toSafeInt(row.id, 'id'), uuid: row.uuid, type, name: row.name, accountId: toSafeInt(row.account_id, 'account id') };
}

/** The participant if it exists; never creates one. */
export async function findParticipant(conn: Conn, type: ParticipantType, uuid: string): Promise<Participant | null> {
  const rows = await selectRows<Row>(conn, `SELECT id, uuid, name, account_id FROM ${TABLE[type]} WHERE uuid = ?`, [uuid]);
  return rows[0] ? toParticipant(type, rows[0]) : null;
}

/** Creates the participant and its wallet inside the caller's transaction, if missing. */
export async function ensureParticipantIn(trx: Trx, type: ParticipantType, uuid: string, name: string | null = null): Promise<Participant> {
  const found = await findParticipant(trx, type, uuid);
  if (found) return found;
  const account = await ensureAccount(trx, { ownerType: type, ownerId: uuid, kind: 'wallet' });
  await execute(
    trx,
    `INSERT IGNORE INTO ${TABLE[type]} (uuid, name, account_id, created_at, updated_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
    [uuid, name, account.id],
  );
  // A locking read sees a twin created concurrently after this transaction's snapshot.
  const rows = await selectRows<Row>(trx, `SELECT id, uuid, name, account_id FROM ${TABLE[type]} WHERE uuid = ? LOCK IN SHARE MODE`, [uuid]);
  if (!rows[0]) throw new Error(`chat: ${type} ${uuid} neither inserted nor found`);
  return toParticipant(type, rows[0]);
}

/**
 * A row created without a name (an admin's top-up creates the payee) takes the first name a
 * token of its own brings; a name once set stays.
 */
async function adoptName(db: Db, participant: Participant, name: string | undefined): Promise<Participant> {
  if (participant.name !== null || !name) return participant;
  await execute(db, `UPDATE ${TABLE[participant.type]} SET name = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND name IS NULL`, [name, participant.id]);
  return (await findParticipant(db, participant.type, participant.uuid)) ?? participant;
}

/**
 * The caller's participant row, created with its wallet on first sight of a valid token:
 * role client → clients, role model → users. Other roles are refused (403).
 */
export async function ensureParticipant(db: Db, claims: ParticipantClaims): Promise<Participant> {
  const type = participantType(claims.role);
  const cached = known.get(db)?.get(`${type}:${claims.sub}`);
  if (cached && (cached.name !== null || !claims.name)) return cached;
  const found = cached ?? (await findParticipant(db, type, claims.sub));
  if (found) return remember(db, await adoptName(db, found, claims.name));
  return remember(db, await withTransaction(db, (trx) => ensureParticipantIn(trx, type, claims.sub, claims.name ?? null)));
}

/** The room's owner (a model), or null when no model with that uuid was ever seen. */
export async function findRoom(db: Db, room: string): Promise<Participant | null> {
  const cached = known.get(db)?.get(`model:${room}`);
  if (cached) return cached;
  const found = await findParticipant(db, 'model', room);
  return found ? remember(db, found) : null;
}
