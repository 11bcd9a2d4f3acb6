/**
 * FNV-1a 32-bit, as upstream's probabilisticsamplerprocessor uses it: the seed's 4 bytes (little endian)
 * first, then the data. Strings are hashed as their UTF-8 bytes without encoding them into a buffer.
 */
const OFFSET = 0x811c9dc5;

function step(h: number, byte: number): number {
  return Math.imul(h ^ byte, 0x01000193) >>> 0;
}

export function fnvSeed(seed: number): number {
  let h = OFFSET;
  for (let i = 0; i < 4; i++) h = step(h, (seed >>> (8 * i)) & 0xff);
  return h;
}

export function fnvBytes(h: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) h = step(h, b[i]!);
  return h;
}

export function fnvUint32(h: number, v: number): number {
  for (let i = 0; i < 4; i++) h = step(h, (v >>> (8 * i)) & 0xff);
  return h;
}

export function fnvString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = step(h, c);
    } else if (c < 0x800) {
      h = step(step(h, 0xc0 | (c >> 6)), 0x80 | (c & 0x3f));
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          h = step(h, 0xf0 | (c >> 18));
          h = step(h, 0x80 | ((c >> 12) & 0x3f));
          h = step(h, 0x80 | ((c >> 6) & 0x3f));
          h = step(h, 0x80 | (c & 0x3f));
          continue;
        }
      }
      // Lone surrogates encode as U+FFFD, like Buffer.from(s).
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
      h = step(step(step(h, 0xe0 | (c >> 12)), 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f));
    }
  }
  return h;
}
