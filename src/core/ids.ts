import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Sortable, URL-safe identifiers: 10 characters of millisecond time then 16 of randomness,
 * behind a short prefix that says what the id names (tn_ tenant, ac_ account, ...).
 */
export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(10);
  let rand = '';
  for (let i = 0; i < 16; i++) {
    const byte = bytes[Math.floor((i * 5) / 8)] ?? 0;
    rand += ALPHABET[(byte >> (i % 3)) & 31];
  }
  return `${prefix}_${time}${rand}`;
}

/** A random token of `bytes` bytes, base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
