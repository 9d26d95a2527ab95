import type { ActorDeps } from '../../src/domain/bonus/actor.ts';
import type { Services } from '../../src/services.ts';

/** What the bonus actor needs from the process, read fresh per transaction attempt. */
export function actorDeps(services: Services): ActorDeps {
  return { now: services.clock.now(), settings: services.bonus, channels: [...services.notifications.channels.keys()] };
}
