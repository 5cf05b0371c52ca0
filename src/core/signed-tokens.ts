import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenPurpose = 'unsubscribe' | 'click' | 'open' | 'confirm';

const PURPOSES: ReadonlySet<string> = new Set<TokenPurpose>(['unsubscribe', 'click', 'open', 'confirm']);

/** Tokens are `<payload>.<mac>`, both base64url; the MAC is HMAC-SHA256 truncated to 128 bits. */
const MAC_BYTES = 16;

// The purpose is inside the MAC, so a click token cannot be replayed as an unsubscribe token.
function mac(secret: Buffer, purpose: TokenPurpose, body: string): Buffer {
  return createHmac('sha256', secret).update(`fanout/${purpose}/`).update(body).digest().subarray(0, MAC_BYTES);
}

/**
 * A URL-safe token carrying `payload` (JSON), signed for one purpose. A payload with a numeric
 * `exp` (epoch milliseconds) stops verifying after that time.
 */
export function signToken(secret: Buffer, purpose: TokenPurpose, payload: object): string {
  if (!PURPOSES.has(purpose)) throw new Error(`unknown token purpose ${String(purpose)}`);
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(secret, purpose, body).toString('base64url')}`;
}

/**
 * The payload, or null when the token is malformed, tampered with, signed for another purpose
 * or with another secret, or expired. Compares MACs in constant time.
 */
export function verifyToken<T extends object = Record<string, unknown>>(secret: Buffer, purpose: TokenPurpose, token: string, now = Date.now()): T | null {
  if (typeof token !== 'string' || token.length > 4096 || !PURPOSES.has(purpose)) return null;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return null;
  const body = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  if (given.length !== MAC_BYTES || !/^[A-Za-z0-9_-]+$/.test(body)) return null;
  if (!timingSafeEqual(given, mac(secret, purpose, body))) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const exp = (payload as { exp?: unknown }).exp;
  if (typeof exp === 'number' && now > exp) return null;
  return payload as T;
}
