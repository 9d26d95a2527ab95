import type { Db, Trx } from '../../platform/db.ts';
import { OPEN, type ActorState, type Listing, type ListingStatus, type StateName } from './machine.ts';
import type { Rule } from './quality.ts';

interface StateRow {
  user_id: string;
  state: StateName;
  listing_id: string | null;
  grant_at: Date | null;
  hold_seq: number;
  yandex_uid: string | null;
  last_grant_at: Date | null;
  points_granted: number | string;
  problems: string;
}

interface ListingRow {
  listing_id: string;
  status: ListingStatus;
  failed: string;
  content_at: number | string | null;
  first_seen_at: Date;
}

const rules = (text: string): Rule[] => (text === '' ? [] : (text.split(',') as Rule[]));
const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
const date = (n: number | null): Date | null => (n === null ? null : new Date(n));

function toState(row: StateRow): ActorState {
  return {
    state: row.state,
    listingId: row.listing_id,
    grantAt: ms(row.grant_at),
    holdSeq: row.hold_seq,
    yandexUid: row.yandex_uid,
    lastGrantAt: ms(row.last_grant_at),
    pointsGranted: Number(row.points_granted),
    problems: rules(row.problems),
  };
}

function toListing(row: ListingRow): Listing {
  return {
    listingId: row.listing_id,
    status: row.status,
    failed: rules(row.failed),
    contentAt: row.content_at === null ? null : Number(row.content_at),
    firstSeenAt: row.first_seen_at.getTime(),
  };
}

/**
 * Locks the user's state row, creating it first if it is missing, and reads it: one statement.
 * INSERT ... ON DUPLICATE KEY UPDATE takes the row's exclusive lock whether it inserts or not, so
 * two first events for one user queue on the lock instead of deadlocking over shared locks; on a
 * duplicate, MariaDB's RETURNING gives the row as it stands under that lock (the latest version).
 */
export async function lockState(trx: Trx, userId: string, now: number): Promise<ActorState> {
  const [rows] = (await trx.raw(
    `INSERT INTO bonus_state (user_id, state, hold_seq, points_granted, problems, created_at, updated_at)
     VALUES (?, 'idle', 0, 0, '', ?, ?) ON DUPLICATE KEY UPDATE user_id = user_id
     RETURNING user_id, state, listing_id, grant_at, hold_seq, yandex_uid, last_grant_at, points_granted, problems`,
    [userId, new Date(now), new Date(now)],
  )) as [StateRow[]];
  return toState(rows[0]!);
}

export async function saveState(trx: Trx, userId: string, s: ActorState, now: number): Promise<void> {
  await trx.raw(
    `UPDATE bonus_state SET state = ?, listing_id = ?, grant_at = ?, hold_seq = ?, yandex_uid = ?, last_grant_at = ?,
       points_granted = ?, problems = ?, updated_at = ? WHERE user_id = ?`,
    [s.state, s.listingId, date(s.grantAt), s.holdSeq, s.yandexUid, date(s.lastGrantAt), s.pointsGranted, s.problems.join(','), new Date(now), userId],
  );
}

/** A plain read: callers hold the user's state lock, which every writer of these rows takes first. */
export async function findListing(trx: Trx, userId: string, listingId: string): Promise<Listing | null> {
  const [rows] = (await trx.raw(
    'SELECT listing_id, status, failed, content_at, first_seen_at FROM bonus_listings WHERE user_id = ? AND listing_id = ?',
    [userId, listingId],
  )) as [ListingRow[]];
  return rows[0] ? toListing(rows[0]) : null;
}

/** The user's earliest good listing other than `except`: the fallback candidate. */
export async function nextGoodListing(trx: Trx, userId: string, except: string): Promise<Listing | null> {
  const row = (await trx('bonus_listings')
    .where({ user_id: userId, status: 'good' })
    .andWhereNot('listing_id', except)
    .orderBy([{ column: 'first_seen_at' }, { column: 'listing_id' }])
    .first()) as ListingRow | undefined;
  return row ? toListing(row) : null;
}

export async function saveListing(trx: Trx, userId: string, l: Listing, now: number): Promise<void> {
  await trx.raw(
    `INSERT INTO bonus_listings (user_id, listing_id, status, failed, content_at, first_seen_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE status = VALUES(status), failed = VALUES(failed), content_at = VALUES(content_at), updated_at = VALUES(updated_at)`,
    [userId, l.listingId, l.status, l.failed.join(','), l.contentAt, new Date(l.firstSeenAt), new Date(now)],
  );
}

export async function setListingStatus(trx: Trx, userId: string, listingId: string, status: ListingStatus, now: number): Promise<void> {
  await trx('bonus_listings').where({ user_id: userId, listing_id: listingId }).update({ status, updated_at: new Date(now) });
}

export async function closeOpenListings(trx: Trx, userId: string, except: string, now: number): Promise<void> {
  await trx('bonus_listings')
    .where('user_id', userId)
    .whereIn('status', OPEN as ListingStatus[])
    .andWhereNot('listing_id', except)
    .update({ status: 'superseded', updated_at: new Date(now) });
}

/** Read-only view for the API (no lock). */
export async function readState(db: Db, userId: string): Promise<ActorState | null> {
  const row = (await db('bonus_state').where('user_id', userId).first()) as StateRow | undefined;
  return row ? toState(row) : null;
}

/** One page of users waiting for a linked account, in user_id order after `after`. */
export async function waitingUsers(db: Db, after: string, limit: number): Promise<string[]> {
  return (await db('bonus_state')
    .where('state', 'waiting_link')
    .andWhere('user_id', '>', after)
    .orderBy('user_id')
    .limit(limit)
    .pluck('user_id')) as string[];
}
