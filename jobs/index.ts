import type { Contracts } from '../queues/contracts/index.ts';
import type { ProcessorMap } from '../queues/processor.ts';
import { deliverSeenJob } from './notify/deliver-seen.ts';
import { deliverSeenBatchJob } from './notify/deliver-seen-batch.ts';
import { pruneJob } from './platform/prune.ts';
import { ingestJob } from './bonus/ingest.ts';
import { applyEventJob } from './bonus/apply-event.ts';
import { holdExpiredJob } from './bonus/hold-expired.ts';
import { deliverPointsJob } from './bonus/deliver-points.ts';
import { recheckLinksJob } from './bonus/recheck-links.ts';
import { pruneEventsJob } from './bonus/prune-events.ts';
import { sendNotificationJob } from './notifications/send.ts';
import { trackerAccountsJob } from './popug/tracker-accounts.ts';
import { paymentsApplyJob } from './popug/payments-apply.ts';
import { reshuffleJob } from './popug/reshuffle.ts';
import { payoutRunJob } from './popug/payout-run.ts';
import { payoutCronJob } from './popug/payout-cron.ts';
import { reportsJob } from './popug/reports.ts';
import { sendReportJob } from './popug/send-report.ts';
import { saveConnectionJob } from './chat/save-connection.ts';
import { saveMessageJob } from './chat/save-message.ts';
import { saveDonateJob } from './chat/save-donate.ts';
import { transferMoneyJob } from './chat/transfer-money.ts';
import { updateGoalJob } from './chat/update-goal.ts';
import { calculateSponsorJob } from './chat/calculate-sponsor.ts';
import { broadcastDonateJob } from './chat/broadcast-donate.ts';
import { broadcastGoalJob } from './chat/broadcast-goal.ts';
import { saveSponsorJob } from './chat/save-sponsor.ts';
import { broadcastSponsorJob } from './chat/broadcast-sponsor.ts';
import { replicateExerciseJob } from './hiring/replicate-exercise.ts';
import { recordAttemptJob } from './hiring/record-attempt.ts';
import { countCompletionJob } from './hiring/count-completion.ts';
import { recordReviewerJob } from './hiring/record-reviewer.ts';
import { topicAppendJob } from './events/topic-append.ts';

/** Every contract's processor. A contract without one here is a type error. */
export const processors: ProcessorMap<Contracts> = {
  'platform.prune': pruneJob,
  'notify.deliver-seen-batch': deliverSeenBatchJob,
  'notify.deliver-seen': deliverSeenJob,
  'chat.save-connection': saveConnectionJob,
  'chat.save-message': saveMessageJob,
  'chat.save-donate': saveDonateJob,
  'chat.transfer-money': transferMoneyJob,
  'chat.update-goal': updateGoalJob,
  'chat.calculate-sponsor': calculateSponsorJob,
  'chat.broadcast-donate': broadcastDonateJob,
  'chat.broadcast-goal': broadcastGoalJob,
  'chat.save-sponsor': saveSponsorJob,
  'chat.broadcast-sponsor': broadcastSponsorJob,
  'bonus.ingest': ingestJob,
  'bonus.apply-event': applyEventJob,
  'bonus.hold-expired': holdExpiredJob,
  'bonus.deliver-points': deliverPointsJob,
  'bonus.recheck-links': recheckLinksJob,
  'bonus.prune-events': pruneEventsJob,
  'notifications.send': sendNotificationJob,
  'hiring.replicate-exercise': replicateExerciseJob,
  'hiring.record-attempt': recordAttemptJob,
  'hiring.count-completion': countCompletionJob,
  'hiring.record-reviewer': recordReviewerJob,
  'events.topic-append': topicAppendJob,
  'popug.tracker-accounts': trackerAccountsJob,
  'popug.payments-apply': paymentsApplyJob,
  'popug.reshuffle': reshuffleJob,
  'popug.payout-run': payoutRunJob,
  'popug.payout-cron': payoutCronJob,
  'popug.reports': reportsJob,
  'popug.send-report': sendReportJob,
};
