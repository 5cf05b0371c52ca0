import type { OpsDeps } from '../context.ts';
import { SYSTEM_ACTOR } from '../context.ts';
import type { CheckResult } from '../inspections/types.ts';
import type { Priority } from './sla.ts';
import { appendTimeline, openSignalTicket } from './service.ts';

/**
 * A live signal: a named condition that is failing or not. One open ticket per signal key;
 * a recovery adds a note to it, a relapse another.
 */
export interface Signal {
  key: string;
  priority: Priority;
  title: string;
  description: string;
  /** true failing, false recovered; null: not observed this time (nothing happens). */
  failing: boolean | null;
}

interface Rule {
  /** The checks that feed the signal (all present and healthy to call it recovered). */
  checks: string[];
  priority: Priority;
  perSubject: boolean;
  failing: (c: CheckResult) => boolean;
  title: (subject: string | null) => string;
  name: string;
}

const isError = (c: CheckResult) => c.status === 'error';
const RULES: Rule[] = [
  { name: 'database-down', checks: ['database'], priority: 'P1', perSubject: false, failing: isError, title: () => 'Database unreachable' },
  { name: 'mail-flow-down', checks: ['sender', 'send_receive'], priority: 'P1', perSubject: false, failing: isError, title: () => 'Mail flow down: sender or send/receive probe failing' },
  { name: 'service-down', checks: ['smtp', 'http', 'bounce_listener'], priority: 'P2', perSubject: false, failing: isError, title: () => 'SMTP, HTTP or bounce listener not answering' },
  { name: 'queue-stuck', checks: ['queue_oldest'], priority: 'P2', perSubject: false, failing: isError, title: () => 'Queue: oldest message past its threshold' },
  { name: 'blocklisted', checks: ['blocklist'], priority: 'P2', perSubject: true, failing: isError, title: (s) => `Source address ${s} is blocklisted` },
  { name: 'provider-refusing', checks: ['provider_refusals'], priority: 'P2', perSubject: false, failing: isError, title: () => 'A mailbox provider refuses most mail' },
  { name: 'certificate-expiry', checks: ['tls_certificate'], priority: 'P3', perSubject: false, failing: (c) => c.status === 'warning' || c.status === 'error', title: () => 'TLS certificate near expiry' },
  ...['dns.spf', 'dns.dkim', 'dns.dmarc', 'dns.mx'].map((key): Rule => ({ name: key, checks: [key], priority: 'P3', perSubject: true, failing: isError, title: (s) => `${key.slice(4).toUpperCase()} record missing or wrong for ${s}` })),
];

/** The signals an inspection's checks say something about. */
export function signalsFromChecks(checks: CheckResult[]): Signal[] {
  const out: Signal[] = [];
  for (const rule of RULES) {
    const relevant = checks.filter((c) => rule.checks.includes(c.key));
    if (!relevant.length) continue;
    const groups = new Map<string | null, CheckResult[]>();
    for (const c of relevant) {
      const k = rule.perSubject ? c.subject : null;
      groups.set(k, [...(groups.get(k) ?? []), c]);
    }
    for (const [subject, group] of groups) {
      const bad = group.filter(rule.failing);
      const complete = rule.checks.every((k) => group.some((c) => c.key === k));
      // Unavailable checks prove nothing either way.
      const judged = group.filter((c) => c.status !== 'unavailable');
      const failing = bad.length ? true : complete && judged.length === group.length ? false : null;
      out.push({
        key: subject ? `${rule.name}:${subject}` : rule.name, priority: rule.priority, title: rule.title(subject), failing,
        description: group.map((c) => `${c.key}${c.subject ? ` (${c.subject})` : ''}: ${c.status} — ${c.message}`).join('\n'),
      });
    }
  }
  return out;
}

export interface SignalOutcome {
  key: string;
  action: 'opened' | 'deduplicated' | 'recovered' | 'relapsed' | 'none';
  ticketId: string | null;
}

/** Opens, deduplicates or annotates tickets for the signals. */
export async function applySignals(deps: OpsDeps, signals: Signal[]): Promise<SignalOutcome[]> {
  const out: SignalOutcome[] = [];
  for (const s of signals) {
    if (s.failing === null) continue;
    const open = await deps.store.db.selectFrom('ops_tickets').selectAll().where('open_signal_key', '=', s.key).executeTakeFirst();
    if (s.failing) {
      if (!open) {
        const row = await openSignalTicket(deps, SYSTEM_ACTOR, { priority: s.priority, title: s.title, description: s.description, signalKey: s.key });
        out.push({ key: s.key, action: row ? 'opened' : 'deduplicated', ticketId: row?.id ?? null });
      } else if (open.signal_recovered_at !== null) {
        const now = deps.now();
        await deps.store.transaction(async (trx) => {
          await trx.updateTable('ops_tickets').set({ signal_recovered_at: null, updated_at: now }).where('id', '=', open.id).execute();
          await appendTimeline(trx, open, { at: now, type: 'signal_failing', actor: 'system:monitor', detail: { signal: s.key, text: `The signal is failing again:\n${s.description}` }, event: 'ticket.signal_failing' });
        });
        out.push({ key: s.key, action: 'relapsed', ticketId: open.id });
      } else {
        out.push({ key: s.key, action: 'deduplicated', ticketId: open.id });
      }
    } else if (open && open.signal_recovered_at === null) {
      const now = deps.now();
      await deps.store.transaction(async (trx) => {
        await trx.updateTable('ops_tickets').set({ signal_recovered_at: now, updated_at: now }).where('id', '=', open.id).execute();
        await appendTimeline(trx, open, { at: now, type: 'signal_recovered', actor: 'system:monitor', detail: { signal: s.key, text: `The signal recovered:\n${s.description}` }, event: 'ticket.signal_recovered' });
      });
      out.push({ key: s.key, action: 'recovered', ticketId: open.id });
    }
  }
  return out;
}
