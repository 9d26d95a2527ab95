/**
 * The request a piece of work was caused by: its id (X-Request-Id or a fresh one) and the W3C
 * traceparent it came in with. It is passed by hand, as a value: a route gets its request's, a
 * processor its job's, and each hands it to the transaction, group commit or enqueue that writes
 * on its behalf (docs/DECISIONS.md 27). Not AsyncLocalStorage: on this Node it hooks every promise.
 */
export interface Trace {
  request_id: string;
  traceparent?: string;
}

/** W3C trace context: version-traceid-parentid-flags, lowercase hex; all-zero ids are invalid. */
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The traceparent header if it is well formed (version ff is forbidden), else undefined. */
export function validTraceparent(value: string | undefined): string | undefined {
  return value && TRACEPARENT.test(value) && !value.startsWith('ff-') ? value : undefined;
}

/** The trace that job data or an outbox row carries (`request_id`, `traceparent`), if any. */
export function traceOf(carrier: { request_id?: unknown; traceparent?: unknown } | null | undefined): Trace | undefined {
  if (!carrier || typeof carrier.request_id !== 'string' || carrier.request_id === '') return undefined;
  return typeof carrier.traceparent === 'string' && carrier.traceparent !== '' ? { request_id: carrier.request_id, traceparent: carrier.traceparent } : { request_id: carrier.request_id };
}

/** The fields job data carries for a trace: none without one. */
export function traceFields(trace: Trace | undefined): Partial<Trace> {
  if (!trace) return {};
  return trace.traceparent ? { request_id: trace.request_id, traceparent: trace.traceparent } : { request_id: trace.request_id };
}

/**
 * The one trace every item of a batch shares, else none: work done for several requests at once
 * (a group commit, an outbox batch) cannot say which request a new row or job is for.
 */
export function commonTrace(traces: readonly (Trace | undefined)[]): Trace | undefined {
  const first = traces[0];
  return first && traces.every((t) => t?.request_id === first.request_id) ? first : undefined;
}
