import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { Db } from '../../../src/platform/db.ts';
import type { ChatEvent } from '../../../src/domain/chat/chatEvent.ts';
import { readHistory } from '../../../src/domain/chat/roomFeed.ts';
import { checkMessageText, privateAudience } from '../../../src/domain/chat/messages.ts';

const NOW = Date.parse('2026-11-21T12:00:00.000Z');
const ROOM = 'room-1';

function event(id: string, minutesAgo: number, audience: string[] | null = null): ChatEvent {
  return { type: 'message', event_id: id, room: ROOM, at: new Date(NOW - minutesAgo * 60_000).toISOString(), data: { id }, audience };
}

/** A history list as Redis holds it: newest first. */
function deps(newestFirst: ChatEvent[], historySize = 20) {
  const redis = { lrange: async () => newestFirst.map((e) => JSON.stringify(e)) } as unknown as Redis;
  return { redis, db: {} as Db, prefix: 't', historySize, historyWindowMs: 10 * 60_000 };
}

describe('chat room feed: GET /chat/event/history from the cached list', () => {
  it('answers oldest first, only the last 10 minutes, without the routing audience', async () => {
    const list = [event('e4', 1), event('e3', 5), event('e2', 9.9), event('e1', 10.5)];
    const answer = await readHistory(deps(list), ROOM, 'viewer', NOW);
    expect(answer.map((e) => e.event_id)).to.deep.equal(['e2', 'e3', 'e4']);
    expect(answer.every((e) => !('audience' in e))).to.equal(true);
  });

  it('shows private events to their audience only', async () => {
    const list = [event('private', 1, ['sender', ROOM]), event('public', 2)];
    expect((await readHistory(deps(list), ROOM, 'sender', NOW)).map((e) => e.event_id)).to.deep.equal(['public', 'private']);
    expect((await readHistory(deps(list), ROOM, ROOM, NOW)).map((e) => e.event_id)).to.deep.equal(['public', 'private']);
    expect((await readHistory(deps(list), ROOM, 'someone else', NOW)).map((e) => e.event_id)).to.deep.equal(['public']);
  });

  it('keeps the newest `historySize`, drops repeats of an event, keeps push order within a millisecond', async () => {
    const list = Array.from({ length: 30 }, (_, i) => event(`e${30 - i}`, (30 - i) / 10));
    const answer = await readHistory(deps([list[0]!, ...list], 20), ROOM, 'v', NOW);
    expect(answer).to.have.length(20);
    expect(answer[0]!.event_id).to.equal('e20');
    expect(answer[19]!.event_id).to.equal('e1');
    const same = [event('b', 1), event('a', 1)];
    expect((await readHistory(deps(same), ROOM, 'v', NOW)).map((e) => e.event_id)).to.deep.equal(['a', 'b']);
  });
});

describe('chat messages', () => {
  it('limits length in characters and refuses blank text', () => {
    expect(() => checkMessageText('😀'.repeat(5), 5)).to.not.throw();
    expect(() => checkMessageText('x'.repeat(6), 5)).to.throw().with.property('code', 'message_too_long');
    expect(() => checkMessageText(' \n\t', 5)).to.throw().with.property('code', 'empty_message');
  });

  it('gives private messages to the sender and the room owner', () => {
    expect(privateAudience(true, 's', 'r')).to.equal(null);
    expect(privateAudience(false, 's', 'r')).to.deep.equal(['s', 'r']);
  });
});
