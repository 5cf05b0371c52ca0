import { queueDepth } from '../../../delivery/index.ts';
import { outcomesBySite } from '../../../delivery/index.ts';
import type { CheckDefinition } from '../types.ts';
import { grade, result } from '../types.ts';

const queueDepthCheck: CheckDefinition = {
  key: 'queue_depth', light: true,
  async run({ deps }) {
    const t = deps.config.operations.thresholds;
    const lanes = await queueDepth(deps.store.db);
    const total = lanes.reduce((n, l) => n + l.queued, 0);
    return result('queue_depth', 'queue', grade(total, t.queueDepthWarn, t.queueDepthError), `${total} recipient(s) queued${lanes.length ? ` (${lanes.map((l) => `${l.lane} ${l.queued}`).join(', ')})` : ''}`,
      total, { warn: t.queueDepthWarn, error: t.queueDepthError }, { value: { total, lanes: Object.fromEntries(lanes.map((l) => [l.lane, l.queued])) }, numeric: total });
  },
};

const queueOldest: CheckDefinition = {
  key: 'queue_oldest', light: true,
  async run({ deps }) {
    const t = deps.config.operations.thresholds;
    const lanes = await queueDepth(deps.store.db);
    const oldest = lanes.map((l) => l.oldestQueuedAt).filter((x): x is number => x !== null).sort((a, b) => a - b)[0];
    const threshold = { warnMinutes: t.queueOldestWarnMinutes, errorMinutes: t.queueOldestErrorMinutes };
    if (oldest === undefined) return result('queue_oldest', 'queue', 'ok', 'the queue is empty', 0, threshold);
    const minutes = Math.round(((deps.now() - oldest) / 60_000) * 10) / 10;
    return result('queue_oldest', 'queue', grade(minutes, t.queueOldestWarnMinutes, t.queueOldestErrorMinutes), `the oldest queued recipient has waited ${minutes} min (since ${new Date(oldest).toISOString()})`,
      minutes, threshold);
  },
};

/** A provider (MX site) answering most attempts with refusals or deferrals in the recent window. */
const providerRefusals: CheckDefinition = {
  key: 'provider_refusals', light: true,
  async run({ deps }) {
    const t = deps.config.operations.thresholds;
    const sites = await outcomesBySite(deps.store.db, deps.now() - t.providerWindowMinutes * 60_000);
    const judged = sites.filter((s) => s.attempts >= t.providerMinAttempts).map((s) => ({ ...s, refusedPercent: Math.round((s.refused / s.attempts) * 1000) / 10 }));
    const refusing = judged.filter((s) => s.refusedPercent >= t.providerRefusalPercent);
    const threshold = { refusedPercent: t.providerRefusalPercent, minAttempts: t.providerMinAttempts, windowMinutes: t.providerWindowMinutes };
    if (refusing.length) {
      return result('provider_refusals', 'queue', 'error', `refusing most mail in the last ${t.providerWindowMinutes} min: ${refusing.map((s) => `${s.site} ${s.refusedPercent}% of ${s.attempts}`).join('; ')}`, { refusing, sites: judged.slice(0, 20) }, threshold, { numeric: refusing.length });
    }
    return result('provider_refusals', 'queue', 'ok', judged.length ? `no provider refuses most mail (${judged.length} judged)` : `fewer than ${t.providerMinAttempts} attempts per provider in the last ${t.providerWindowMinutes} min`, { refusing: [], sites: judged.slice(0, 20) }, threshold, { numeric: 0 });
  },
};

export const queueChecks: CheckDefinition[] = [queueDepthCheck, queueOldest, providerRefusals];
