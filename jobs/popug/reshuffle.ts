import { reshuffleBatch } from '../../src/domain/popug/reshuffle.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import type { Processor } from '../../queues/processor.ts';
import { runLong } from './longRun.ts';

/** Works through a reshuffle batch by batch; Bull Board shows tasks_done of tasks_total. */
export const reshuffleJob: Processor<Contracts['popug.reshuffle']> = (ctx) =>
  runLong(ctx, async () => {
    const { services, payload, trace } = ctx;
    for (;;) {
      const { done, progress } = await reshuffleBatch((fn) => services.outbox.transaction(fn, { trace }), payload.reshuffle_id, services.popug.batchSize, () => new Date(services.clock.now()));
      await ctx.updateProgress?.({ tasks_done: progress.tasks_done, tasks_total: progress.tasks_total });
      if (done) return progress;
    }
  });
