import type { Contracts } from '../queues/contracts/index.ts';
import type { ProcessorMap } from '../queues/processor.ts';
import { deliverSeenJob } from './notify/deliver-seen.ts';
import { pruneJob } from './platform/prune.ts';

/** Every contract's processor. A contract without one here is a type error. */
export const processors: ProcessorMap<Contracts> = {
  'platform.prune': pruneJob,
  'notify.deliver-seen': deliverSeenJob,
};
