/**
 * The Redis Cluster hash slot of a key (CRC16/XMODEM of the key, or of its hash tag: the part
 * between the first `{` and the next `}` when that part is not empty), as the cluster spec defines it.
 */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** `{part}` on a Cluster (a hash tag: every key naming it lands on one slot), else `part` unchanged. */
export function hashTag(cluster: boolean, part: string): string {
  return cluster ? `{${part}}` : part;
}

/** The part of a key that picks its slot: its hash tag, or the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

export function keySlot(key: string): number {
  return crc16(Buffer.from(hashTagOf(key))) % 16384;
}
