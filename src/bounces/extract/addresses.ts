/**
 * Address spotting in free text, shared by the extractors. Written as a scan from each "@"
 * outwards rather than one big regular expression: a leading character class with "+" makes
 * the regex engine retry at every character of long reports, and this runs on every bounce.
 */

const LOCAL_CHAR = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$/;
const LITERAL = /^\[[0-9.]+\]$/;

/** Addresses with their positions, in order, lower-cased (duplicates kept). */
export function addressPositions(text: string): { address: string; index: number }[] {
  const out: { address: string; index: number }[] = [];
  let at = text.indexOf('@');
  while (at >= 0) {
    let start = at;
    while (start > 0 && LOCAL_CHAR.test(text[start - 1] as string)) start--;
    let end = at + 1;
    if (text[end] === '[') {
      const close = text.indexOf(']', end);
      end = close < 0 ? end : close + 1;
    } else {
      while (end < text.length && DOMAIN_CHAR.test(text[end] as string)) end++;
    }
    let local = text.slice(start, at);
    let domain = text.slice(at + 1, end);
    // Trailing dots and hyphens end sentences, not domains; leading dots and quotes are punctuation.
    domain = domain.replace(/[.-]+$/, '');
    const trimmed = local.replace(/^[.'`]+/, '');
    start += local.length - trimmed.length;
    local = trimmed.replace(/[.'`]+$/, '');
    if (local && (DOMAIN.test(domain) || LITERAL.test(domain))) out.push({ address: `${local}@${domain}`.toLowerCase(), index: start });
    at = text.indexOf('@', Math.max(end, at + 1));
  }
  return out;
}

/** Every address in `text`, in order, lower-cased, without duplicates. */
export function addressesIn(text: string): string[] {
  if (!text.includes('@')) return [];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const { address } of addressPositions(text)) {
    if (seen.has(address)) continue;
    seen.add(address);
    out.push(address);
  }
  return out;
}

/** Mailbox names that are the bounce machinery itself, never a failed recipient. */
export function isRobot(address: string): boolean {
  return /^(?:mailer-daemon|postmaster|mail-daemon|maildaemon|mailerdaemon|bounces?|no-?reply|double-bounce|abuse)@/i.test(address);
}
