import type { Knex } from 'knex';

/** A contract migration that may not run yet; `npm start` goes on without it, `npm run migrate` fails. */
export class MigrationRefused extends Error {
  constructor(
    readonly migration: string,
    message: string,
  ) {
    super(message);
    this.name = 'MigrationRefused';
  }
}

/**
 * Outbox rows of `event` at `version` not yet done: events some consumer has still to take (in the
 * relay, in a queue, retrying, or dead and waiting for review). Every consumer of a registered
 * event is a durable job, whose row is marked done in the transaction of its effect, so a row not
 * done is exactly an event still pending. Rows whose envelope did not fit the header columns keep
 * it in the payload (src/platform/outbox/writer.ts), hence the second test.
 */
export async function pendingEvents(knex: Knex, event: string, version: number): Promise<number> {
  const [rows] = (await knex.raw(
    `SELECT COUNT(*) AS n FROM outbox
      WHERE status <> 'done' AND payload_version = ?
        AND (event_name = ? OR (event_name IS NULL AND event_id IS NOT NULL AND JSON_UNQUOTE(JSON_EXTRACT(payload, '$.event_name')) = ?))`,
    [version, event, event],
  )) as [{ n: number | string }[]];
  return Number(rows[0]!.n);
}

/** Throws MigrationRefused, saying what to wait for, while `event` v`version` events are pending. */
export async function refuseWhilePending(knex: Knex, migration: string, event: string, version: number): Promise<void> {
  const n = await pendingEvents(knex, event, version);
  if (n > 0) {
    throw new MigrationRefused(
      migration,
      `${migration} refused: ${n} ${event} v${version} event deliveries are still pending (outbox rows not done). ` +
        `Switch producers to the newer version (PUT /admin/flags/events.${event}.version), let consumers drain them ` +
        `(or resolve the dead ones), then run npm run migrate.`,
    );
  }
}
