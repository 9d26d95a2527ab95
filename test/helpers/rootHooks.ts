/**
 * Conveyor instances startConveyor (./conveyor.ts) started on the shared test Redis whose helper
 * stop() has not run, by queue prefix, with the test file line that started them.
 */
export const notStopped = new Map<string, string>();

/**
 * Mocha root hooks (.mocharc `require`). After the whole run, every such instance must have been
 * ended with the helper's stop(), which deletes its prefix: running.stop() alone leaves its keys
 * (at least the queues' meta hashes) behind after `npm test`.
 */
export const mochaHooks = {
  afterAll(): void {
    if (notStopped.size > 0) {
      const left = [...notStopped].map(([prefix, at]) => `${prefix} (started ${at})`);
      throw new Error(`Conveyor instances left on the test Redis; end them with the helper's stop(), not running.stop(): ${left.join('; ')}`);
    }
  },
};
