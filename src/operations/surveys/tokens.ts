import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Survey links: `<survey id>.<expiry, base 36>.<HMAC>` signed with the platform secret. The
 * signature makes a link unforgeable and its expiry untamperable; single use is the store's
 * job (a survey is answered once).
 */
function mac(secret: Buffer, id: string, expiresAt: number): string {
  return createHmac('sha256', secret).update(`survey\0${id}\0${expiresAt}`).digest('base64url').slice(0, 32);
}

export function signSurveyToken(secret: Buffer, id: string, expiresAt: number): string {
  return `${id}.${expiresAt.toString(36)}.${mac(secret, id, expiresAt)}`;
}

export function verifySurveyToken(secret: Buffer, token: string): { id: string; expiresAt: number } | null {
  const m = /^([a-z]+_[0-9a-z]{26})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m) return null;
  const expiresAt = Number.parseInt(m[2]!, 36);
  const expected = Buffer.from(mac(secret, m[1]!, expiresAt));
  const given = Buffer.from(m[3]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  return { id: m[1]!, expiresAt };
}
