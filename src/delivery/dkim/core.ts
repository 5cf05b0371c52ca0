import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * DKIM signing (RFC 6376, relaxed/relaxed, rsa-sha256 or ed25519-sha256 per RFC 8463).
 * mailauth's header parser and signing-header selection are used as they are; relaxed
 * canonicalisation is done here (with mailauth's canonicaliser as the fallback for bodies
 * that need rewriting) because mailauth's generic path costs more than the hashing itself.
 * The main difference from mailauth's dkimSign: the private key arrives already decoded.
 * Decoding the PEM costs about as much as the RSA signature, and dkimSign does it for
 * every message. The signer tests verify every output with mailauth's dkimVerify.
 */
interface ParsedHeader { key: string | null; casedKey: string | undefined; line: Buffer }
interface SigningLines { keys: string; headers: ParsedHeader[] }
interface BodyHasher { update(chunk: Buffer | null, final?: boolean): void; digest(encoding: 'base64'): string }

interface MailauthTools {
  parseHeaders(buf: Buffer): { parsed: ParsedHeader[]; original: Buffer };
  getSigningHeaderLines(parsed: ParsedHeader[], fieldNames?: string | false, verify?: boolean): SigningLines;
  defaultDKIMFieldNames: string;
}
interface MailauthBody { dkimBody(canonicalization: string, hashAlgo: string, maxBodyLength: number | false): BodyHasher }

// mailauth ships these internals as CommonJS without type declarations; typed once here.
const require = createRequire(import.meta.url);
const tools = require('mailauth/lib/tools.js') as MailauthTools;
const { dkimBody } = require('mailauth/lib/dkim/body/index.js') as MailauthBody;

export interface DkimKey {
  domain: string;
  selector: string;
  privateKeyPem: string;
}

export interface DecodedKey {
  domain: string;
  selector: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
  key: KeyObject;
}

export class DkimError extends Error {
  override name = 'DkimError';
}

const SELECTOR = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/i;
const DOMAIN = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}$/i;

/** Decodes a PEM once. Errors never quote the key. */
export function decodeKey(k: DkimKey): DecodedKey {
  if (!k || typeof k.domain !== 'string' || !DOMAIN.test(k.domain)) throw new DkimError(`DKIM: "${String(k?.domain)}" is not a signing domain`);
  if (typeof k.selector !== 'string' || !SELECTOR.test(k.selector)) throw new DkimError(`DKIM: "${String(k.selector)}" is not a selector`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: k.privateKeyPem, format: 'pem' });
  } catch {
    throw new DkimError(`DKIM: the private key for ${k.selector}._domainkey.${k.domain} is not a valid PEM private key`);
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 1024) throw new DkimError(`DKIM: the RSA key for ${k.selector}._domainkey.${k.domain} has ${bits} bits; at least 1024 are needed (2048 recommended)`);
    return { domain: k.domain.toLowerCase(), selector: k.selector, algorithm: 'rsa-sha256', key };
  }
  if (type === 'ed25519') return { domain: k.domain.toLowerCase(), selector: k.selector, algorithm: 'ed25519-sha256', key };
  throw new DkimError(`DKIM: ${String(type)} keys are not supported (use RSA or Ed25519)`);
}

/** The `p=` value of the DNS record for a private key: what the domain must publish. */
export function publicKeyRecord(privateKeyPem: string): string {
  const pub = createPublicKey(createPrivateKey(privateKeyPem));
  if (pub.asymmetricKeyType === 'ed25519') {
    // RFC 8463: the raw 32-byte key, i.e. the SPKI without its 12-byte prefix.
    return `v=DKIM1; k=ed25519; p=${pub.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64')}`;
  }
  return `v=DKIM1; k=rsa; p=${pub.export({ format: 'der', type: 'spki' }).toString('base64')}`;
}

/** Finds the blank line that ends the header; returns the body's offset (message length if none). */
function headerEnd(msg: Buffer): { headerLen: number; bodyStart: number } {
  const crlf = msg.indexOf('\r\n\r\n');
  const lf = msg.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf + 1 <= lf)) return { headerLen: crlf + 2, bodyStart: crlf + 4 };
  if (lf >= 0) return { headerLen: lf + 1, bodyStart: lf + 2 };
  return { headerLen: msg.length, bodyStart: msg.length };
}

// Anything relaxed body canonicalisation would change: whitespace before a line end, tabs,
// runs of spaces, bare CR or LF, trailing whitespace at the very end.
const NEEDS_RELAXING = /[ \t]\r\n|\t| {2}|[^\r]\n|^\n|\r(?!\n)|[ \t]$/;
const CRLF = Buffer.from('\r\n');

/**
 * Relaxed body hash (RFC 6376 3.4.4). Generated mail is nearly always canonical already, so
 * one regular-expression scan decides, and such a body is hashed natively with only its
 * trailing empty lines dropped; anything else goes through mailauth's canonicaliser.
 */
export function relaxedBodyHash(body: Buffer): string {
  const text = body.toString('latin1');
  if (NEEDS_RELAXING.test(text)) {
    const hasher = dkimBody('relaxed', 'sha256', false);
    if (body.length) hasher.update(body);
    // digest() runs the final update itself (trailing empty lines dropped, one CRLF kept).
    return hasher.digest('base64');
  }
  let end = text.length;
  while (end >= 2 && text.charCodeAt(end - 1) === 10 && text.charCodeAt(end - 2) === 13) end -= 2;
  const hash = createHash('sha256');
  if (end > 0) hash.update(body.subarray(0, end)).update(CRLF);
  return hash.digest('base64');
}

/**
 * mailauth's default list plus List-Unsubscribe-Post: RFC 8058 one-click counts only when both
 * List-Unsubscribe headers are covered by the signature.
 */
export const SIGNED_HEADERS = `${tools.defaultDKIMFieldNames}:List-Unsubscribe-Post`;

export interface SignOptions {
  /** Colon-separated header names to sign; mailauth's default list otherwise. */
  headerList?: string;
  /** Signature time (t=), epoch ms; now by default. */
  signTime?: number;
}

/**
 * Relaxed header canonicalisation (RFC 6376 3.4.2) of one raw header field. Only SP and HTAB
 * count as whitespace: bytes such as 0xA0 inside raw UTF-8 header text stay as they are.
 */
export function relaxedHeader(raw: string): string {
  const colon = raw.indexOf(':');
  const name = raw.slice(0, colon).replace(/[ \t]+$/, '').toLowerCase();
  const value = raw.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '').replace(/\r?\n$/, '').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
  return `${name}:${value}`;
}

/** Folds base64 into lines of at most 72 characters after the first `room` ones. */
function foldB64(b64: string, room: number): string {
  const parts = [b64.slice(0, room)];
  for (let i = room; i < b64.length; i += 72) parts.push(b64.slice(i, i + 72));
  return parts.join('\r\n ');
}

/** Returns the folded `DKIM-Signature: ...` header line (no trailing CRLF). */
export function dkimSignatureHeader(message: Buffer, key: DecodedKey, options: SignOptions = {}): string {
  const { headerLen, bodyStart } = headerEnd(message);
  if (headerLen === 0) throw new DkimError('DKIM: the message has no header');
  const headers = tools.parseHeaders(message.subarray(0, headerLen));
  if (!headers.parsed.some((h) => h.key === 'from')) throw new DkimError('DKIM: the message has no From header, which DKIM must sign');
  const bodyHash = relaxedBodyHash(message.subarray(bodyStart));
  const lines = tools.getSigningHeaderLines(headers.parsed, options.headerList ?? SIGNED_HEADERS);
  const names = lines.headers.map((h) => h.casedKey ?? '').join(':');
  const t = Math.floor((options.signTime ?? Date.now()) / 1000);
  // Folding happens only at the spaces after ";" (relaxed canonicalisation turns them back
  // into single spaces) and inside b=, whose value the verifier removes before hashing.
  const tags = [`v=1; a=${key.algorithm}; c=relaxed/relaxed; d=${key.domain}; s=${key.selector};`, `t=${t}; h=${names};`, `bh=${bodyHash};`, 'b='];
  let canonical = '';
  for (const h of lines.headers) canonical += `${relaxedHeader(h.line.toString('latin1'))}\r\n`;
  canonical += `dkim-signature:${tags.join(' ')}`;
  const data = Buffer.from(canonical, 'latin1');
  const signature = key.algorithm === 'rsa-sha256'
    ? cryptoSign('sha256', data, key.key)
    : cryptoSign(null, createHash('sha256').update(data).digest(), key.key);
  return `DKIM-Signature: ${tags.slice(0, 3).join('\r\n ')}\r\n b=${foldB64(signature.toString('base64'), 70)}`;
}

/** Signs and returns the message with the DKIM-Signature header prepended. */
export function signMessage(message: Buffer, key: DecodedKey, options: SignOptions = {}): Buffer {
  const header = dkimSignatureHeader(message, key, options);
  return Buffer.concat([Buffer.from(`${header}\r\n`, 'latin1'), message]);
}
