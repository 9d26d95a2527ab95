import type { Db, Trx } from '../../platform/db.ts';
import type { ParticipantType } from './participants.ts';
import { execute } from '../../platform/sql.ts';

export interface ConnectionInput {
  /** The ws connection id (a uuid the ws server generates). */
  connectionId: string;
  /** The participant's uuid (a viewer's sub, or the model's uuid = room id). */
  entityUuid: string;
  type: ParticipantType;
}

/**
 * Binds ws connection ids to their participants (the seed's SaveConnection, for a batch of
 * AddNewConnection events). Idempotent: the connection id is unique and a repeat is ignored, so a
 * retried job or call is harmless.
 */
export async function saveConnections(conn: Db | Trx, inputs: readonly ConnectionInput[]): Promise<void> {
  if (inputs.length === 0) return;
  await execute(
    conn,
    `INSERT IGNORE INTO connections (type, entity_uuid, connection_uuid, created_at) VALUES ${inputs.map(() => '(?, ?, ?, UTC_TIMESTAMP(3))').join(', ')}`,
    inputs.flatMap((i) => [i.type, i.entityUuid, i.connectionId]),
  );
}

/**
 * For Conveyor's own ws server: registers a connection directly (one idempotent insert), since the
 * ws server is itself where the connection happened. External gateways use POST
 * /chat/connection/add, which goes through AddNewConnection → SaveConnection.
 */
export async function registerConnection(db: Db, input: ConnectionInput): Promise<void> {
  await saveConnections(db, [input]);
}

/** The ws server's side of a closed connection. Rows nobody deleted (a crashed process, an external gateway) are pruned by age. */
export async function unregisterConnection(db: Db, connectionId: string): Promise<void> {
  await execute(db, 'DELETE FROM connections WHERE connection_uuid = ?', [connectionId]);
}

/** Deletes connection rows older than `before`, a batch at a time; how many went. */
export async function pruneConnections(db: Db, before: Date): Promise<number> {
  let total = 0;
  for (let n = -1; n !== 0; total += n) {
    n = Number((await db('connections').where('created_at', '<', before).limit(1000).delete()) ?? 0);
  }
  return total;
}

export { ensureParticipant, type Participant, type ParticipantClaims } from './participants.ts';
