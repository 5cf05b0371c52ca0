import ipaddr from 'ipaddr.js';

type TxtLookup = (name: string) => Promise<string[][]>;

const isSpf = (t: string) => /^v=spf1(\s|$)/i.test(t.trim());

/** Terms after v=spf1, lowercase; '+' dropped and single-address prefixes folded so equal terms compare equal. */
export function spfTerms(record: string): string[] {
  return record.trim().split(/\s+/).slice(1).map((t) => t.toLowerCase().replace(/^\+/, '').replace(/^(ip4:[^/]+)\/32$/, '$1').replace(/^(ip6:[^/]+)\/128$/, '$1'));
}

/**
 * The authorising terms of a record and of every record it includes or redirects to, within
 * SPF's own limit of ten look-ups. Banks often authorise senders through an include chain;
 * a Fanout mechanism found anywhere in it authorises Fanout just as well.
 */
async function chainTerms(terms: string[], resolveTxt: TxtLookup, budget: { lookups: number }, seen: Set<string>): Promise<string[]> {
  const out = [...terms];
  for (const t of terms) {
    const m = /^(?:include:|redirect=)(.+)$/.exec(t);
    if (!m || seen.has(m[1]!) || budget.lookups <= 0) continue;
    seen.add(m[1]!);
    budget.lookups--;
    let answer: string[][];
    try {
      answer = await resolveTxt(m[1]!);
    } catch {
      // A failing include usually means a slow or broken server: stop rather than wait on more.
      budget.lookups = 0;
      continue;
    }
    const record = answer.map((c) => c.join('')).find(isSpf);
    if (record) out.push(...await chainTerms(spfTerms(record), resolveTxt, budget, seen));
  }
  return out;
}

/** Whether `have` authorises `need`: the same term, or an ip4:/ip6: range that contains the address. */
function covers(have: string[], need: string): boolean {
  if (have.includes(need)) return true;
  const m = /^(ip[46]):(.+)$/.exec(need);
  if (!m || m[2]!.includes('/')) return false;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(m[2]!);
  } catch {
    return false;
  }
  return have.some((h) => {
    const r = /^(ip[46]):([^/]+)\/(\d+)$/.exec(h);
    if (!r || r[1] !== m[1]) return false;
    try {
      const net = ipaddr.parse(r[2]!);
      return net.kind() === addr.kind() && addr.match(net, Number(r[3]));
    } catch {
      return false;
    }
  });
}

export async function checkSpf(expected: string, found: string[], resolveTxt: TxtLookup): Promise<{ status: 'ok' | 'missing' | 'mismatch'; message: string }> {
  const spf = found.filter(isSpf);
  if (!spf.length) return { status: 'missing', message: 'no SPF (v=spf1) record' };
  if (spf.length > 1) return { status: 'mismatch', message: `${spf.length} SPF records: receivers treat more than one as a permanent error; merge them into one` };
  const own = spfTerms(spf[0]!);
  if (own.includes('all')) return { status: 'mismatch', message: 'the SPF record ends in +all, which lets anyone send as this domain' };
  // Only Fanout's mechanisms are required: an existing policy with more hosts is fine.
  const need = spfTerms(expected).filter((t) => !/all$/.test(t) && t !== 'a' && t !== 'mx');
  let absent = need.filter((t) => !covers(own, t));
  if (absent.length) {
    const chain = await chainTerms(own, resolveTxt, { lookups: 10 }, new Set());
    absent = absent.filter((t) => !covers(chain, t));
  }
  if (absent.length) return { status: 'mismatch', message: `the SPF record does not authorise Fanout: add ${absent.join(' ')}` };
  return { status: 'ok', message: 'SPF authorises Fanout' };
}
