import type { QueuedMail } from '../../src/domain/popug/reports.ts';
import { popugContracts } from '../../queues/contracts/popug.ts';
import { jobData, jobOptions, type QueueSet } from '../../queues/producer.ts';

const contract = popugContracts['popug.send-report'];

/** One mail job per payout, its id taken from the payout: queueing one twice adds nothing. */
export async function queueReportMails(queues: QueueSet, mails: readonly QueuedMail[]): Promise<void> {
  if (mails.length === 0) return;
  await queues.get(contract.queue).addBulk(
    mails.map((m) => ({ name: contract.queue, data: jobData(contract, { entry_id: m.entryId }), opts: jobOptions(contract, { jobId: `report-${m.entryId}` }) })),
  );
}
