import { domainToASCII, domainToUnicode } from 'node:url';
import { invalid } from '../core/errors.ts';

// Characters the WHATWG host parser would silently strip or decode ("example.com/x" becomes
// "example.com", "%41" becomes "a"): anything like this is a typo or an attack, never a name.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\s/\\:@?#%[\]<>"'`,;*\u0000-\u001f\u007f]/u;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function fail(field: string, value: string, why: string): never {
  throw invalid(`${field} "${value}" is not a valid domain name: ${why}`, [{ field, message: why }]);
}

/**
 * A sending or return-path domain as its lowercase A-label (what DNS and DKIM d= use).
 * Unicode names are accepted and converted with IDNA; IP literals, single labels and anything
 * the host parser would have to repair are refused, naming the field.
 */
export function normalizeDomainName(field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string`, [{ field, message: 'must be a string' }]);
  const raw = value.trim();
  if (!raw) throw invalid(`${field} must not be empty`, [{ field, message: 'must not be empty' }]);
  if (raw.length > 253 * 4) fail(field, raw.slice(0, 40) + '…', 'too long');
  if (FORBIDDEN.test(raw)) fail(field, raw, 'contains characters that cannot appear in a domain name (spaces, slashes, ports, @, %, brackets, ...)');
  // One trailing dot is the fully qualified form of the same name; more is junk.
  const withoutRoot = raw.endsWith('.') && !raw.endsWith('..') ? raw.slice(0, -1) : raw;
  if (/^[0-9.]+$/.test(withoutRoot) || /^0x/i.test(withoutRoot)) fail(field, raw, 'an IP address is not a domain name');
  const ascii = domainToASCII(withoutRoot);
  if (!ascii) fail(field, raw, 'it is not a valid internationalised domain name');
  if (ascii.length > 253) fail(field, raw, 'longer than 253 characters');
  const labels = ascii.split('.');
  if (labels.length < 2) fail(field, raw, 'a single label is not a public domain (use e.g. example.com)');
  for (const label of labels) {
    if (!label) fail(field, raw, 'it contains an empty label (two dots in a row)');
    if (!LABEL.test(label)) fail(field, raw, `label "${label}" must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen`);
  }
  // The host parser turns some numeric forms into IPv4 addresses; a numeric TLD is never a name.
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) fail(field, raw, 'the last label is numeric (an IP address?)');
  return ascii;
}

/**
 * A DNS name that need not be a host name (SPF include targets such as _spf.bank.example):
 * ASCII labels of letters, digits, hyphens and underscores.
 */
export function normalizeDnsName(field: string, value: string): string {
  const v = value.trim().toLowerCase().replace(/\.$/, '');
  const labels = v.split('.');
  if (v.length > 253 || labels.length < 2 || !labels.every((l) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l))) {
    throw invalid(`${field} "${value}" is not a valid DNS name`, [{ field, message: 'not a valid DNS name' }]);
  }
  return v;
}

/** Lenient form for look-ups: the normalised name, or null where it cannot be a sending domain. */
export function tryNormalizeDomainName(value: string): string | null {
  try {
    return normalizeDomainName('domain', value);
  } catch {
    return null;
  }
}

export function unicodeName(ascii: string): string {
  return domainToUnicode(ascii) || ascii;
}

/** True when `name` lies strictly below `parent` (bounces.example.com under example.com). */
export function isStrictSubdomain(name: string, parent: string): boolean {
  return name.length > parent.length + 1 && name.endsWith(`.${parent}`);
}

/** DKIM selectors are one or more DNS labels (RFC 6376 §3.1); kept lowercase. */
export function normalizeSelector(field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string`, [{ field, message: 'must be a string' }]);
  const v = value.trim().toLowerCase();
  const ok = v.length > 0 && v.length <= 63 && v.split('.').every((l) => LABEL.test(l));
  if (!ok) {
    throw invalid(`${field} "${value}" is not a valid DKIM selector: use letters, digits and hyphens (dots between labels), at most 63 characters`,
      [{ field, message: 'letters, digits, hyphens; at most 63 characters' }]);
  }
  return v;
}
