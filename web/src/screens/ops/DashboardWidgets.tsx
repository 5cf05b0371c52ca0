import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { CHECK_STATUSES, PRIORITIES } from '../../api/operations';
import type { InspectionSummary, Ticket } from '../../api/operations';
import { useSession } from '../../app/session';
import { formatDateTime } from '../../ui/format';
import { Card } from '../../ui/Page';
import { SlaClock } from '../../ui/SlaClock';
import { useApi } from '../../ui/useApi';
import { CheckBadge, PriorityBadge, TicketStatusBadge } from './common';

const OPEN_LIMIT = 200;

/** The clock of a ticket nearest its target: the response clock until it stops, then resolution. */
const nearest = (x: Ticket) => (x.sla.response.state !== 'stopped' && x.sla.response.percent >= x.sla.resolution.percent ? 'response' : 'resolution');

/** The latest health inspection: its verdict, when, and how many checks in each status. */
export function InspectionWidget() {
  const { t } = useTranslation();
  const latest = useApi<{ items: InspectionSummary[] }>('/inspections', { limit: 1 });
  const r = latest.data?.items[0];
  return (
    <Card title={t('dashboard.inspection')} actions={<Link className="btn btn-small" to="/ops/inspections">{t('dashboard.allInspections')}</Link>}>
      {!latest.data ? <p className="muted">{t('common.loading')}</p> : !r ? <p className="muted">{t('inspections.none')}</p> : (
        <div data-testid="dashboard-inspection">
          <div className="latest-head"><CheckBadge status={r.status} /> <Link to={`/ops/inspections/${r.id}`}>{formatDateTime(r.finishedAt)}</Link> <span className="muted">{t(`inspections.kinds.${r.kind}`)}</span></div>
          <dl className="facts facts-compact">
            {CHECK_STATUSES.map((s) => <div key={s}><dt>{t(`checkStatus.${s}`)}</dt><dd>{r.counts[s]}</dd></div>)}
          </dl>
          {r.changes ? <p className="muted small">{t('inspections.changesSince', { count: r.changes })}</p> : null}
        </div>
      )}
    </Card>
  );
}

/** Open tickets by priority, how many are paused or past a deadline, and the most urgent ones. */
export function TicketsWidget() {
  const { t } = useTranslation();
  const open = useApi<{ items: Ticket[]; nextBefore: string | null }>('/tickets', { open: true, limit: OPEN_LIMIT }, { pollMs: 60_000 });
  const items = open.data?.items ?? [];
  const breached = items.filter((x) => x.responseBreached || x.resolutionBreached).length;
  const waiting = items.filter((x) => x.status === 'waiting_customer').length;
  const urgent = [...items].sort((a, b) => b.sla[nearest(b)].percent - a.sla[nearest(a)].percent).slice(0, 4);
  return (
    <Card title={t('dashboard.openTickets')} actions={<Link className="btn btn-small" to="/ops/tickets?open=true">{t('dashboard.allTickets')}</Link>}>
      {!open.data ? <p className="muted">{t('common.loading')}</p> : (
        <div data-testid="dashboard-tickets">
          <dl className="facts facts-compact">
            {PRIORITIES.map((p) => <div key={p}><dt>{p}</dt><dd data-testid={`open-${p}`}>{items.filter((x) => x.priority === p).length}{open.data?.nextBefore ? '+' : ''}</dd></div>)}
          </dl>
          <p className={breached ? 'bad-text' : 'muted'}>{t('dashboard.ticketFlags', { breached, waiting })}</p>
          {urgent.length ? (
            <ul className="plain urgent">
              {urgent.map((x) => (
                <li key={x.id}>
                  <div className="urgent-title"><PriorityBadge priority={x.priority} /> <Link to={`/ops/tickets/${x.id}`}>{x.title}</Link> <TicketStatusBadge status={x.status} /></div>
                  <SlaClock compact showLabel clock={x.sla[nearest(x)]} label={t(`sla.${nearest(x)}`)} />
                </li>
              ))}
            </ul>
          ) : <p className="muted">{t('dashboard.noOpenTickets')}</p>}
        </div>
      )}
    </Card>
  );
}

/** The operations widgets the role may see. */
export default function OperationsWidgets() {
  const session = useSession();
  const inspections = session.can('inspections.read');
  const tickets = session.can('tickets.read');
  if (!inspections && !tickets) return null;
  return (
    <div className="grid-2">
      {inspections ? <InspectionWidget /> : null}
      {tickets ? <TicketsWidget /> : null}
    </div>
  );
}
