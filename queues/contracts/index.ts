import type { JobContract } from '../contract.ts';
import { notifyContracts } from './notify.ts';
import { platformContracts } from './platform.ts';
import { chatContracts } from './chat.ts';
import { bonusContracts } from './bonus.ts';
import { notificationsContracts } from './notifications.ts';
import { hiringContracts } from './hiring.ts';
import { eventsContracts } from './events.ts';
import { popugContracts } from './popug.ts';

/** Every job type Conveyor runs, by queue name. jobs/index.ts must give each a processor. */
export const contracts = {
  ...platformContracts,
  ...notifyContracts,
  ...chatContracts,
  ...bonusContracts,
  ...notificationsContracts,
  ...hiringContracts,
  ...eventsContracts,
  ...popugContracts,
};

export type Contracts = typeof contracts;
export type QueueName = keyof Contracts;

export const contractsByQueue: ReadonlyMap<string, JobContract> = new Map(Object.entries(contracts));
