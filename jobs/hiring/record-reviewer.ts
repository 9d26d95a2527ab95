import { recordReviewer } from '../../src/domain/hiring/replica.ts';
import type { ReviewerAssignedPayload } from '../../src/domain/hiring/events.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { eventConsumer } from './consumeEvent.ts';

/** Hiring side: the candidate's reviewer, by id (v0's name and e-mail are upcast away). */
export const recordReviewerJob = eventConsumer<Contracts['hiring.record-reviewer']>('hiring.record-reviewer', async (trx, event) => {
  await recordReviewer(trx, event.payload as ReviewerAssignedPayload);
  return { reviewer: (event.payload as ReviewerAssignedPayload).reviewer_id };
});
