/** htpasswd entries (`user:hash`): bcrypt, `{SHA}`, `{SSHA}`, `$apr1$`/`$1$` MD5-crypt, or plain text. */
import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function md5(...parts: Buffer[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** The MD5-crypt algorithm (`$1$`, and Apache's `$apr1$` with a different magic). */
export function md5Crypt(password: string, salt: string, magic: '$1$' | '$apr1$'): string {
  const pw = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 8), 'utf8');
  let alt = md5(pw, s, pw);
  const ctx: Buffer[] = [pw, Buffer.from(magic), s];
  for (let left = pw.length; left > 0; left -= 16) ctx.push(alt.subarray(0, Math.min(left, 16)));
  for (let i = pw.length; i > 0; i >>= 1) ctx.push(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  alt = md5(...ctx);
  for (let i = 0; i < 1000; i++) {
    const parts: Buffer[] = [i & 1 ? pw : alt];
    if (i % 3) parts.push(s);
    if (i % 7) parts.push(pw);
    parts.push(i & 1 ? alt : pw);
    alt = md5(...parts);
  }
  let out = '';
  const to64 = (v: number, n: number): void => {
    for (let k = 0; k < n; k++, v >>= 6) out += ITOA64.charAt(v & 0x3f);
  };
  const b = alt;
  to64((b[0]! << 16) | (b[6]! << 8) | b[12]!, 4);
  to64((b[1]! << 16) | (b[7]! << 8) | b[13]!, 4);
  to64((b[2]! << 16) | (b[8]! << 8) | b[14]!, 4);
  to64((b[3]! << 16) | (b[9]! << 8) | b[15]!, 4);
  to64((b[4]! << 16) | (b[10]! << 8) | b[5]!, 4);
  to64(b[11]!, 2);
  return `${magic}${salt.slice(0, 8)}$${out}`;
}

function equal(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** True when `password` matches the stored htpasswd `hash`. */
export function verifyHtpasswd(hash: string, password: string): boolean {
  if (/^\$2[abxy]?\$/.test(hash)) return bcrypt.compareSync(password, hash.replace(/^\$2y\$/, '$2b$'));
  if (hash.startsWith('{SHA}')) return equal(hash, `{SHA}${createHash('sha1').update(password).digest('base64')}`);
  if (hash.startsWith('{SSHA}')) {
    const raw = Buffer.from(hash.slice(6), 'base64');
    if (raw.length <= 20) return false;
    const salt = raw.subarray(20);
    const d = createHash('sha1').update(password).update(salt).digest();
    return timingSafeEqual(d, raw.subarray(0, 20));
  }
  for (const magic of ['$apr1$', '$1$'] as const) {
    if (hash.startsWith(magic)) {
      const salt = hash.slice(magic.length, hash.indexOf('$', magic.length));
      return equal(hash, md5Crypt(password, salt, magic));
    }
  }
  return equal(hash, password); // plain text, as go-htpasswd accepts
}

/** Parses htpasswd text into user → hash; blank lines and `#` comments are skipped. */
export function parseHtpasswd(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) continue;
    const colon = l.indexOf(':');
    if (colon <= 0) continue;
    out.set(l.slice(0, colon), l.slice(colon + 1));
  }
  return out;
}
