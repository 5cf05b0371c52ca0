import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * DKIM signing (RFC 6376, relaxed/relaxed, rsa-sha256 or ed25519-sha256 per RFC 8463) with
 * mailauth's own canonicalisation and header helpers, so the output is what mailauth's
 * verifier (and every receiver that agrees with it) expects. The difference from mailauth's
 * dkimSign is that the private key arrives here already decoded: decoding the PEM costs
 * about as much as the RSA signature itself, and dkimSign does it for every message.
 */

interface ParsedHeader { key: string | null; casedKey: string | undefined; line: Buffer }
interface SigningLines { keys: string; headers: ParsedHeader[] }
interface BodyHasher { update(chunk: Buffer | null, final?: boolean): void; digest(encoding: 'base64'): string }

interface MailauthTools {
  parseHeaders(buf: Buffer): { parsed: ParsedHeader[]; original: Buffer };
  getSigningHeaderLines(parsed: ParsedHeader[], fieldNames?: string | false, verify?: boolean): SigningLines;
  formatSignatureHeaderLine(type: string, values: Record<string, unknown>, folded: boolean): string;
  defaultDKIMFieldNames: string;
}
interface MailauthHeader {
  generateCanonicalizedHeader(type: string, lines: SigningLines, options: Record<string, unknown>): { canonicalizedHeader: Buffer; dkimHeaderOpts: Record<string, unknown> };
}
interface MailauthBody { dkimBody(canonicalization: string, hashAlgo: string, maxBodyLength: number | false): BodyHasher }

// mailauth ships these internals as CommonJS without type declarations; typed once here.
const require = createRequire(import.meta.url);
const tools = require('mailauth/lib/tools.js') as MailauthTools;
const { generateCanonicalizedHeader } = require('mailauth/lib/dkim/header/index.js') as MailauthHeader;
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

export interface SignOptions {
  /** Colon-separated header names to sign; mailauth's default list otherwise. */
  headerList?: string;
  /** Signature time (t=), epoch ms; now by default. */
  signTime?: number;
}

/** Returns the folded `DKIM-Signature: ...` header line (no trailing CRLF). */
export function dkimSignatureHeader(message: Buffer, key: DecodedKey, options: SignOptions = {}): string {
  const { headerLen, bodyStart } = headerEnd(message);
  if (headerLen === 0) throw new DkimError('DKIM: the message has no header');
  const headers = tools.parseHeaders(message.subarray(0, headerLen));
  if (!headers.parsed.some((h) => h.key === 'from')) throw new DkimError('DKIM: the message has no From header, which DKIM must sign');
  const hasher = dkimBody('relaxed', 'sha256', false);
  if (bodyStart < message.length) hasher.update(message.subarray(bodyStart));
  // digest() runs the final update itself (trailing empty lines dropped, one CRLF kept).
  const bodyHash = hasher.digest('base64');
  const lines = tools.getSigningHeaderLines(headers.parsed, options.headerList ?? tools.defaultDKIMFieldNames);
  const { canonicalizedHeader, dkimHeaderOpts } = generateCanonicalizedHeader('DKIM', lines, {
    signingDomain: key.domain,
    selector: key.selector,
    algorithm: key.algorithm,
    canonicalization: 'relaxed/relaxed',
    bodyHash,
    signTime: new Date(options.signTime ?? Date.now()),
  });
  const signature = key.algorithm === 'rsa-sha256'
    ? cryptoSign('sha256', canonicalizedHeader, key.key)
    : cryptoSign(null, createHash('sha256').update(canonicalizedHeader).digest(), key.key);
  return tools.formatSignatureHeaderLine('DKIM', { ...dkimHeaderOpts, b: signature.toString('base64') }, true);
}

/** Signs and returns the message with the DKIM-Signature header prepended. */
export function signMessage(message: Buffer, key: DecodedKey, options: SignOptions = {}): Buffer {
  const header = dkimSignatureHeader(message, key, options);
  return Buffer.concat([Buffer.from(`${header}\r\n`, 'latin1'), message]);
}
