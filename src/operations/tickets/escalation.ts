import type { OpsDeps } from '../context.ts';
import { sendOpsMail } from '../mail.ts';
import { appendTimeline } from './service.ts';
import { statusChanges, ticketView } from './views.ts';

export interface Escalation {
  ticketId: string;
  target: 'response' | 'resolution';
  percent: number;
  crossedAt: string;
  mail: string;
}

function contactsFor(deps: OpsDeps, percent: number): string[] {
  const c = deps.config.operations.tickets.escalationContacts;
  return [...(c[String(percent)] ?? []), ...(c['*'] ?? [])];
}

/**
 * Looks at every ticket whose clocks still run and records each escalation step it has
 * crossed and not yet recorded: a timeline entry and a `ticket.escalated` event, at 100 % also
 * the breach flag and `ticket.breached`, then mail to the step's contacts through Fanout's own
 * sending path. Run under the cluster lease, so one node does it; each step is recorded once.
 */
export async function sweepEscalations(deps: OpsDeps): Promise<Escalation[]> {
  const now = deps.now();
  const percents = deps.config.operations.tickets.escalationPercents;
  const rows = await deps.store.db.selectFrom('ops_tickets').selectAll().where('status', 'not in', ['resolved', 'closed']).execute();
  if (!rows.length) return [];
  const changes = await statusChanges(deps.store.db, rows.map((r) => r.id));
  const done = await deps.store.db.selectFrom('ops_ticket_timeline').select(['ticket_id', 'detail']).where('type', '=', 'escalation').where('ticket_id', 'in', rows.map((r) => r.id)).execute();
  const recorded = new Set(done.map((d) => {
    const x = JSON.parse(d.detail) as { target: string; percent: number };
    return `${d.ticket_id}/${x.target}/${x.percent}`;
  }));
  const out: Escalation[] = [];
  for (const row of rows) {
    const view = ticketView(deps.config, row, changes.get(row.id) ?? [], now);
    for (const target of ['response', 'resolution'] as const) {
      const clock = view.sla[target];
      if (target === 'response' && row.acknowledged_at !== null) continue;
      for (const percent of percents) {
        if (clock.percent < percent || recorded.has(`${row.id}/${target}/${percent}`)) continue;
        const crossedAt = new Date(Date.parse(clock.dueAt) - ((100 - percent) / 100) * clock.targetMinutes * 60_000).toISOString();
        const fresh = await deps.store.transaction(async (trx) => {
          // Re-read inside the transaction: another sweep may have recorded the step meanwhile.
          const again = await trx.selectFrom('ops_ticket_timeline').select('detail').where('ticket_id', '=', row.id).where('type', '=', 'escalation').execute();
          if (again.some((a) => { const x = JSON.parse(a.detail) as { target: string; percent: number }; return x.target === target && x.percent === percent; })) return false;
          await appendTimeline(trx, row, { at: now, type: 'escalation', actor: 'system:sla', detail: { target, percent, crossedAt, dueAt: clock.dueAt, priority: row.priority }, event: 'ticket.escalated' });
          if (percent >= 100) {
            await trx.updateTable('ops_tickets').set(target === 'response' ? { response_breached_at: now } : { resolution_breached_at: now }).where('id', '=', row.id).execute();
            await appendTimeline(trx, row, { at: now, type: 'breach', actor: 'system:sla', detail: { target, dueAt: clock.dueAt, priority: row.priority }, event: 'ticket.breached' });
          }
          return true;
        });
        if (!fresh) continue;
        const what = target === 'response' ? 'response (15 min)' : 'resolution';
        const mail = await sendOpsMail(deps, {
          to: contactsFor(deps, percent),
          subject: `[${row.priority}] ${percent >= 100 ? 'SLA breached' : `${percent}% of the ${target} time used`}: ${row.title}`,
          text: `Ticket ${row.id} (${row.priority}, ${row.status}): ${row.title}\n\n${percent}% of the ${what} target is used; due ${clock.dueAt}.\n${percent >= 100 ? 'The target is breached.\n' : ''}`,
        });
        const mailNote = mail.sent ? `queued ${mail.messageIds.length} message(s)` : `not sent: ${mail.reason}`;
        await deps.store.transaction((trx) => appendTimeline(trx, row, { at: deps.now(), type: 'escalation_mail', actor: 'system:sla', detail: { target, percent, mail: mailNote } }));
        out.push({ ticketId: row.id, target, percent, crossedAt, mail: mailNote });
      }
    }
  }
  return out;
}
