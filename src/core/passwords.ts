import { createHash } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id profile (19 MiB, 2 passes): memory-hard, ~20 ms here. The library's
// default algorithm is argon2id (its const enum cannot be imported under type stripping).
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/**
 * Remembers recent successful verifications so a business system that opens many SMTP
 * sessions does not pay an argon2 run each time. Keyed by a digest of (stored hash, password):
 * a changed password changes the stored hash and so misses the cache.
 */
export class VerifiedPasswordCache {
  readonly #entries = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(ttlMs = 5 * 60_000, max = 10_000) {
    this.#ttlMs = ttlMs;
    this.#max = max;
  }

  async verify(stored: string, password: string, now = Date.now()): Promise<boolean> {
    const key = createHash('sha256').update(stored).update('\0').update(password).digest('base64');
    const until = this.#entries.get(key);
    if (until !== undefined && until > now) return true;
    const ok = await verifyPassword(stored, password);
    if (ok) {
      if (this.#entries.size >= this.#max) this.#entries.clear();
      this.#entries.set(key, now + this.#ttlMs);
    }
    return ok;
  }
}

let dummyHash: Promise<string> | null = null;

/** Makes the dummy hash now (a server calls it at start), so the first check pays no extra hashing. */
export function prepareDummyPassword(): Promise<string> {
  dummyHash ??= hashPassword(createHash('sha256').update(String(Math.random())).update(String(process.hrtime.bigint())).digest('base64'));
  return dummyHash;
}

/**
 * Runs one verification against a hash of a random password, made once: a check for a name
 * that does not exist costs what a wrong password costs, so timing does not tell real names
 * from unknown ones. Always false.
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  await verifyPassword(await prepareDummyPassword(), password);
  return false;
}
