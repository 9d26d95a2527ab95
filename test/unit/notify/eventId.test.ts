import { expect } from 'chai';
import fc from 'fast-check';
import { eventTime, newEventId } from '../../../src/domain/notify/eventId.ts';
import { lookupSeen, recordSeen, type SeenDeps } from '../../../src/domain/notify/recordSeen.ts';
import { parseIntegrations } from '../../../src/domain/notify/integrations.ts';

describe('event ids (UUID version 7) carry the time a fact was seen', () => {
  it('are RFC 9562 version 7 UUIDs whose time reads back exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
        const id = newEventId(ms);
        expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(eventTime(id)).to.equal(ms);
      }),
    );
  });

  it('differ from one another at the same millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newEventId(1_700_000_000_000)));
    expect(ids.size).to.equal(10_000);
  });

  it('sort by time', () => {
    const ids = [3, 1, 2].map((s) => newEventId(1_700_000_000_000 + s * 1000));
    expect([...ids].sort()).to.deep.equal([ids[1], ids[2], ids[0]]);
  });

  it('read no time from other ids', () => {
    expect(eventTime('c8d0e8a4-7b9e-4c53-9f0e-1234567890ab')).to.equal(null);
    expect(eventTime('not-an-id')).to.equal(null);
  });
});

describe('recordSeen / lookupSeen remember a fact as its event id', () => {
  const integrations = parseIntegrations({ promo: { delivery: 'topic', topic: 'promo.seen', remember_for: '1h' } });
  function fakeQueue(now: number) {
    const queued = new Map<string, string>();
    const deps: SeenDeps = {
      integrations,
      now: () => now,
      // First writer wins, as SET NX GET does: null when this fact was remembered.
      remember: async (key, fact) => {
        const standing = queued.get(key) ?? null;
        if (standing === null) queued.set(key, fact.event_id);
        return standing;
      },
      findSeen: async (key) => queued.get(key) ?? null,
    };
    return deps;
  }
  const input = { kind: 'client' as const, identity: { user_id: 'u', bound_uids: [] }, tag: 'promo', id: 'n-1' };

  it('answers a repeat with the first event id, and GET with the first seen_at', async () => {
    const deps = fakeQueue(Date.parse('2026-11-21T08:00:00.123Z'));
    const first = await recordSeen(deps, input);
    expect(first.deduplicated).to.equal(false);
    deps.now = () => Date.parse('2026-11-21T08:05:00.000Z');
    expect(await recordSeen(deps, input)).to.deep.equal({ event_id: first.event_id, deduplicated: true });
    expect(await lookupSeen(deps, input)).to.deep.equal({ event_id: first.event_id, seen_at: '2026-11-21T08:00:00.123Z' });
    expect(await lookupSeen(deps, { ...input, id: 'n-2' })).to.equal(null);
  });
});
