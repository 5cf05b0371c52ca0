import { randomBytes, randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

// Identifiers are made by the thousand per second on the submission path; one getrandom call
// per 4 KiB instead of one per id. Each byte of the pool is handed out once.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let poolAt = POOL_SIZE;

/** `n` fresh random bytes (n ≤ 64) from a shared pool: for identifiers, never for secrets. */
export function idBytes(n: number): Buffer {
  if (n > 64) throw new RangeError('idBytes: at most 64 bytes');
  if (poolAt + n > POOL_SIZE) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const out = Buffer.from(pool.subarray(poolAt, poolAt + n));
  poolAt += n;
  return out;
}

/**
 * Sortable, URL-safe identifiers: 10 characters of millisecond time then 16 of randomness
 * (80 bits, Crockford-style base 32), behind a short prefix that says what the id names
 * (tn_ tenant, ac_ account, ...).
 */
export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = idBytes(10);
  let rand = '';
  for (let bit = 0; bit < 80; bit += 5) {
    const at = bit >> 3;
    const pair = (bytes[at]! << 8) | (bytes[at + 1] ?? 0);
    rand += ALPHABET[(pair >> (11 - (bit & 7))) & 31];
  }
  return `${prefix}_${time}${rand}`;
}

/** A random token of `bytes` bytes, base64url (secrets: drawn fresh, not from the pool). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
