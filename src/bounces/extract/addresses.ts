/** Address spotting in free text, shared by the extractors. */

const ADDRESS_RE = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}|[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@\[[0-9.]+\]/g;

/** Every address in `text`, in order, lower-cased, without duplicates. */
export function addressesIn(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const m of text.matchAll(ADDRESS_RE)) {
    const a = m[0].replace(/^[.'`]+|[.'`]+$/g, '').toLowerCase();
    if (!a.includes('@') || seen.has(a)) continue;
    seen.add(a);
    out.push(a);
  }
  return out;
}

/** Addresses with their positions, for splitting a report into per-recipient blocks. */
export function addressPositions(text: string): { address: string; index: number }[] {
  const out: { address: string; index: number }[] = [];
  for (const m of text.matchAll(ADDRESS_RE)) {
    out.push({ address: m[0].replace(/^[.'`]+|[.'`]+$/g, '').toLowerCase(), index: m.index ?? 0 });
  }
  return out;
}

/** Mailbox names that are the bounce machinery itself, never a failed recipient. */
export function isRobot(address: string): boolean {
  return /^(?:mailer-daemon|postmaster|mail-daemon|maildaemon|mailerdaemon|bounces?|no-?reply|double-bounce|abuse)@/i.test(address);
}
