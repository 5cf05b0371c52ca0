import type { Executor } from '../../store/store.ts';

export interface SiteOutcomes {
  site: string;
  attempts: number;
  delivered: number;
  /** Attempts the site answered with a failure or a deferral. */
  refused: number;
}

/**
 * For health inspections: what each MX site (provider) answered since `since`, so a provider
 * that refuses most of the mail it is offered shows up while it happens.
 */
export async function outcomesBySite(db: Executor, since: number): Promise<SiteOutcomes[]> {
  const rows = await db.selectFrom('delivery_events').select((eb) => ['site', 'outcome', eb.fn.countAll<number>().as('n')])
    .where('at', '>=', since).where('site', 'is not', null).where('outcome', 'in', ['delivered', 'deferred', 'failed'])
    .groupBy(['site', 'outcome']).execute();
  const by = new Map<string, SiteOutcomes>();
  for (const r of rows) {
    const s = by.get(r.site!) ?? { site: r.site!, attempts: 0, delivered: 0, refused: 0 };
    const n = Number(r.n);
    s.attempts += n;
    if (r.outcome === 'delivered') s.delivered += n;
    else s.refused += n;
    by.set(s.site, s);
  }
  return [...by.values()].sort((a, b) => b.attempts - a.attempts);
}
