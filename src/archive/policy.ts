import { invalid } from '../core/errors.ts';
import type { Executor } from '../store/store.ts';

/** One retention rule: every field given must match; the first matching rule decides. */
export interface RetentionRule {
  account?: string;
  lane?: string;
  tag?: string;
  days: number;
}

export interface RetentionPolicy {
  tenantId: string;
  defaultDays: number;
  rules: RetentionRule[];
}

const DAY_MS = 86_400_000;

export function parseRules(value: unknown, field = '/rules'): RetentionRule[] {
  if (!Array.isArray(value)) throw invalid('rules must be a list', [{ field, message: 'a list of {account?, lane?, tag?, days}' }]);
  return value.map((r: unknown, i) => {
    const o = (r ?? {}) as Record<string, unknown>;
    const days = o.days;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1) throw invalid(`rule ${i}: days must be a whole number of at least 1`, [{ field: `${field}/${i}/days`, message: 'integer >= 1' }]);
    for (const k of Object.keys(o)) {
      if (!['account', 'lane', 'tag', 'days'].includes(k)) throw invalid(`rule ${i}: unknown field ${k}`, [{ field: `${field}/${i}/${k}`, message: 'not a rule field' }]);
      if (k !== 'days' && typeof o[k] !== 'string') throw invalid(`rule ${i}: ${k} must be text`, [{ field: `${field}/${i}/${k}`, message: 'text' }]);
    }
    if (o.lane !== undefined && o.lane !== 'transactional' && o.lane !== 'bulk') throw invalid(`rule ${i}: lane is transactional or bulk`, [{ field: `${field}/${i}/lane`, message: 'transactional | bulk' }]);
    return { account: o.account as string | undefined, lane: o.lane as string | undefined, tag: o.tag as string | undefined, days };
  });
}

export async function policyOf(db: Executor, tenantId: string, fallbackDays: number): Promise<RetentionPolicy> {
  const row = await db.selectFrom('archive_policies').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!row) return { tenantId, defaultDays: fallbackDays, rules: [] };
  return { tenantId, defaultDays: row.default_days, rules: JSON.parse(row.rules) as RetentionRule[] };
}

/** The expiry a message gets when it is archived. */
export function expiryFor(policy: RetentionPolicy, m: { accountId: string; lane: string; tags: string[] }, archivedAt: number): number {
  const rule = policy.rules.find((r) => (r.account === undefined || r.account === m.accountId) && (r.lane === undefined || r.lane === m.lane) && (r.tag === undefined || m.tags.includes(r.tag)));
  return archivedAt + (rule?.days ?? policy.defaultDays) * DAY_MS;
}
