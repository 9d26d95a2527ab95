import type { Extension } from '../runtime.ts';
import { WsServer } from './server.ts';

export interface WsExtension extends Extension {
  /** The running server once attached (tests read its stats). */
  readonly server: WsServer | undefined;
}

/** The WebSocket fan-out server, attached to the HTTP server's upgrade event (GET /ws). */
export function wsExtension(): WsExtension {
  let server: WsServer | undefined;
  return {
    name: 'ws',
    get server() {
      return server;
    },
    attach(http, services) {
      server = new WsServer(services);
      server.attach(http);
    },
    async close() {
      await server?.close();
    },
  };
}
