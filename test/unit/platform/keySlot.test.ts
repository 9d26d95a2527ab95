import { expect } from 'chai';
import { hashTag, hashTagOf, keySlot } from '../../../src/platform/keySlot.ts';
import { bySlot, type RedisClient } from '../../../src/platform/redis.ts';

describe('Redis Cluster key slots', () => {
  it('computes the slots Redis does (CLUSTER KEYSLOT on redis-server 7.0)', () => {
    // Values read from a running cluster node; 12739 is the CRC16/XMODEM check value of "123456789".
    expect(keySlot('123456789')).to.equal(12739);
    expect(keySlot('foo')).to.equal(12182);
    expect(keySlot('{}{a}')).to.equal(13650);
    expect(keySlot('conveyor:{notify.deliver-seen}:wait')).to.equal(keySlot('notify.deliver-seen'));
  });

  it('hashes only the first non-empty tag', () => {
    expect(hashTagOf('a{b}c{d}')).to.equal('b');
    expect(hashTagOf('a{}b{c}')).to.equal('a{}b{c}');
    expect(hashTagOf('plain')).to.equal('plain');
    expect(hashTag(true, 'room')).to.equal('{room}');
    expect(hashTag(false, 'room')).to.equal('room');
  });

  it('groups keys per slot on a cluster and keeps one group, in order, on one Redis', () => {
    const keys = ['x:{a}:1', 'y:{b}:1', 'x:{a}:2', 'z'];
    const single = { isCluster: false } as RedisClient;
    const cluster = { isCluster: true } as RedisClient;
    expect(bySlot(single, keys, (k) => k)).to.deep.equal([keys]);
    expect(bySlot(single, [], (k: string) => k)).to.deep.equal([]);
    expect(bySlot(cluster, keys, (k) => k)).to.deep.equal([['x:{a}:1', 'x:{a}:2'], ['y:{b}:1'], ['z']]);
  });
});
