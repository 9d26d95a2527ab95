import type { FlagStore } from '../../platform/flags.ts';
import type { EventDef } from '../../../queues/outbox/envelope.ts';
import type { Logger } from '../../platform/logger.ts';
import { eventRegistry } from './catalog.ts';

/** The flag that says which version of an event producers emit. */
export function versionFlag(name: string): string {
  return `events.${name}.version`;
}

/**
 * The version of `name` producers emit now: the flag `events.<Name>.version`, or the oldest
 * published version when unset (a rollout starts where the consumers already are).
 */
export async function emittedVersion(flags: FlagStore, name: string, log?: Logger): Promise<EventDef> {
  const event = eventRegistry.event(name);
  if (!event) throw new Error(`event ${name} is not registered`);
  const value = await flags.get(versionFlag(name));
  if (value === undefined) return event.versions[0]!;
  const def = event.versions.find((d) => d.version === Number(value));
  if (!def) {
    // PUT /admin/flags refuses such values; a row edited by hand falls back safely.
    log?.warn({ flag: versionFlag(name), value }, 'flag names no published version; emitting the oldest');
    return event.versions[0]!;
  }
  return def;
}

/** A flag value PUT /admin/flags accepts for `name`, or the reason it does not. */
export function checkFlagValue(name: string, value: unknown): string | null {
  const match = /^events\.([A-Za-z][A-Za-z0-9]*)\.version$/.exec(name);
  if (!match) return null;
  const event = eventRegistry.event(match[1]!);
  if (!event) return `no registered event ${match[1]}`;
  const versions = event.versions.map((d) => d.version);
  if (typeof value === 'boolean' || !versions.includes(Number(value)) || String(value).trim() === '') return `${name} must be one of ${versions.join(', ')}`;
  return null;
}
