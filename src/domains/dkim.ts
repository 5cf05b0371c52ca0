import { createHash, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(generateKeyPair);

export interface DkimKeyPair {
  privateKeyPem: string;
  /** Base64 of the DER SubjectPublicKeyInfo: exactly the p= of the DKIM DNS record. */
  publicKey: string;
}

/**
 * RSA-2048: the size every large receiver verifies and whose p= still fits a TXT record
 * (split into 255-byte strings); 1024 is deprecated and 4096 breaks some DNS providers.
 * Asynchronous because generation takes tens of milliseconds and must not stall the server.
 */
export async function generateDkimKeyPair(): Promise<DkimKeyPair> {
  const { privateKey, publicKey } = await generate('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKey: publicKey.toString('base64') };
}

/** A short public fingerprint for the operation log and views: it identifies a key without revealing it. */
export function publicKeyFingerprint(publicKey: string): string {
  return `sha256:${createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('hex').slice(0, 32)}`;
}

/** `fo` + yyyymm in UTC, e.g. fo202611: the month says when the key was made, which helps rotation. */
export function defaultSelector(now: number): string {
  const d = new Date(now);
  return `fo${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The default selector, or the first free variant of it (fo202611b, fo202611c, ...) when taken. */
export function freeSelector(now: number, taken: ReadonlySet<string>): string {
  const base = defaultSelector(now);
  if (!taken.has(base)) return base;
  for (let i = 1; i < 26 * 26; i++) {
    const suffix = i < 26 ? String.fromCharCode(97 + i) : String.fromCharCode(97 + Math.floor(i / 26)) + String.fromCharCode(97 + (i % 26));
    if (!taken.has(base + suffix)) return base + suffix;
  }
  return `${base}-${now}`;
}
