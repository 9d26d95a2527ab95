import type { Extension } from '../runtime.ts';

/** The WebSocket fan-out server (issue 4) attaches to the HTTP server's upgrade event here. */
export function wsExtension(): Extension {
  return { name: 'ws' };
}
