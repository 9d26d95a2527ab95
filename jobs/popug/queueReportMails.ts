import type { QueuedMail } from '../../src/domain/popug/reports.ts';
import { popugContracts } from '../../queues/contracts/popug.ts';
import type { QueueSet } from '../../queues/producer.ts';
import type { Trace } from '../../src/platform/trace.ts';

/** One mail job per payout, its id taken from the payout: queueing one twice adds nothing. */
export async function queueReportMails(queues: QueueSet, mails: readonly QueuedMail[], trace: Trace | undefined): Promise<void> {
  await queues.enqueueMany(popugContracts['popug.send-report'], mails.map((m) => ({ payload: { entry_id: m.entryId }, opts: { jobId: `report-${m.entryId}`, trace } })));
}
