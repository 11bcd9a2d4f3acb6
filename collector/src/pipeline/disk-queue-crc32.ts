/**
 * CRC-32 (IEEE 802.3, the zlib/gzip polynomial), table-driven. zlib.crc32 exists only from Node 22.2,
 * and Tributary runs on Node 20.
 */
const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 of `buf[start, end)`, continuing from `crc` (pass the previous result to chain pieces). */
export function crc32(buf: Uint8Array, crc = 0, start = 0, end = buf.length): number {
  let c = ~crc;
  for (let i = start; i < end; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
