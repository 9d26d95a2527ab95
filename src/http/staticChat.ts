import type { Middleware } from 'koa';
import type { AppState } from './context.ts';
import { staticPage } from './staticPage.ts';

const PUBLIC_CHAT = new URL('../../public/chat/', import.meta.url);

/** The chat page (public/chat/) under /chat/; the chat API under /chat/ passes through. */
export function staticChat(dir: URL = PUBLIC_CHAT): Middleware<AppState> {
  return staticPage('chat', dir);
}
