import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, isMissingEndpoint } from '../api/client';
import type { Account, DeliveryEvent, Items } from '../api/types';
import { getFailures, getSends, statsUnavailable } from '../api/stats';
import type { FailureCounts, SendCounts } from '../api/stats';
import { useSession } from '../app/session';
import { Chart } from '../ui/Chart';
import { formatDateTime, formatNumber, formatPercent, localDate, timeZone } from '../ui/format';
import { Card, Page } from '../ui/Page';
import { Notice } from '../ui/Form';
import { useApi } from '../ui/useApi';
import OperationsWidgets from './ops/DashboardWidgets';

const TILES = ['submitted', 'delivered', 'deferred', 'failed'] as const;
const MAX_EVENT_PAGES = 5;
const EVENT_PAGE = 1000;

interface Today {
  source: 'stats' | 'events';
  counts: Partial<SendCounts>;
  yesterday?: Partial<SendCounts>;
  hours: { hour: number; delivered: number; deferred: number; failed: number }[];
  days?: { date: string; submitted: number; delivered: number; failed: number }[];
  truncated?: boolean;
}

const startOfToday = () => {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
};

/** Today's counts from the statistics API, or, on a server without it, from the delivery log itself. */
async function loadToday(): Promise<Today> {
  const tz = timeZone();
  try {
    const [today, yesterday, days] = await Promise.all([
      getSends({ period: 'today', groupBy: 'hour', timezone: tz }),
      getSends({ period: 'yesterday', timezone: tz }),
      getSends({ from: localDate(new Date(Date.now() - 29 * 86_400_000)), to: localDate(new Date()), groupBy: 'date', timezone: tz }),
    ]);
    return {
      source: 'stats', counts: today.total, yesterday: yesterday.total,
      hours: today.items.map((i) => ({ hour: Number(String(i.hour ?? '0').slice(-2)), delivered: i.delivered, deferred: i.deferred, failed: i.failed + i.bounced })),
      days: days.items.map((i) => ({ date: String(i.date), submitted: i.submitted, delivered: i.delivered, failed: i.failed + i.bounced })),
    };
  } catch (err) {
    if (!statsUnavailable(err)) throw err;
  }
  const counts = { delivered: 0, deferred: 0, failed: 0 };
  const hours = Array.from({ length: 24 }, (_, hour) => ({ hour, delivered: 0, deferred: 0, failed: 0 }));
  let cursor: number | null = null;
  let pages = 0;
  do {
    const page: { items: DeliveryEvent[]; nextCursor: number | null } = await api.get('/delivery/events', { from: startOfToday().toISOString(), limit: EVENT_PAGE, cursor });
    for (const e of page.items) {
      const key = e.outcome === 'delivered' ? 'delivered' : e.outcome === 'deferred' ? 'deferred' : e.outcome === 'failed' || e.outcome === 'expired' ? 'failed' : null;
      if (!key) continue;
      counts[key] += 1;
      hours[new Date(e.at).getHours()]![key] += 1;
    }
    cursor = page.nextCursor;
  } while (cursor !== null && ++pages < MAX_EVENT_PAGES);
  return { source: 'events', counts, hours, truncated: cursor !== null };
}

async function loadFailuresToday(): Promise<Partial<FailureCounts> | null> {
  const tz = timeZone();
  try {
    return (await getFailures({ period: 'today', timezone: tz })).total;
  } catch (err) {
    if (!statsUnavailable(err)) throw err;
  }
  try {
    // The older failures endpoint: rows per day, tenant and domain over an instant range.
    const old = await api.get<{ items: (FailureCounts & { total: number })[] }>('/stats/failures', { from: startOfToday().toISOString(), to: new Date(Date.now() + 60_000).toISOString(), timezone: tz });
    const sum: FailureCounts = { userUnknown: 0, mailboxFull: 0, rejected: 0, other: 0, total: 0 };
    for (const r of old.items) {
      sum.userUnknown += r.userUnknown;
      sum.mailboxFull += r.mailboxFull;
      sum.rejected += r.rejected;
      sum.other += r.other;
      sum.total! += r.total;
    }
    return sum;
  } catch (err) {
    if (isMissingEndpoint(err)) return null;
    throw err;
  }
}

function Trend({ now, before }: { now?: number; before?: number }) {
  const { t } = useTranslation();
  if (now === undefined || before === undefined) return null;
  if (before === 0) return <span className="trend">{t('dashboard.noYesterday')}</span>;
  const change = (now - before) / before;
  return <span className={`trend ${change >= 0 ? 'up' : 'down'}`}>{t('dashboard.vsYesterday', { change: `${change >= 0 ? '+' : ''}${formatPercent(change)}` })}</span>;
}

export default function Dashboard() {
  const { t } = useTranslation();
  const session = useSession();
  const [today, setToday] = useState<Today | null>(null);
  const [failures, setFailures] = useState<Partial<FailureCounts> | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const queue = useApi<{ lanes: { lane: string; queued: number; oldestQueuedAt: string | null }[] }>(session.can('queue.read') ? '/delivery/queue' : null);
  const accounts = useApi<Items<Account>>('/accounts');

  useEffect(() => {
    loadToday().then(setToday, setError);
    loadFailuresToday().then(setFailures, () => setFailures(null));
  }, []);

  const alerts = (accounts.data?.items ?? []).filter((a) => a.status === 'held' || (a.quota !== null && a.quota > 0 && a.used / a.quota >= 0.9));
  const hourOption = useMemo(() => today && {
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: today.hours.map((h) => String(h.hour).padStart(2, '0')) },
    yAxis: { type: 'value', minInterval: 1 },
    tooltip: { trigger: 'axis' },
    series: [
      { name: t('counts.delivered'), type: 'bar', stack: 'n', data: today.hours.map((h) => h.delivered), itemStyle: { color: '#2f7d4f' } },
      { name: t('counts.deferred'), type: 'bar', stack: 'n', data: today.hours.map((h) => h.deferred), itemStyle: { color: '#c48a1b' } },
      { name: t('counts.failed'), type: 'bar', stack: 'n', data: today.hours.map((h) => h.failed), itemStyle: { color: '#b3261e' } },
    ],
  }, [today, t]);
  const dayOption = useMemo(() => today?.days && {
    legend: { top: 0 },
    grid: { left: 56, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: today.days.map((d) => d.date.slice(5)) },
    yAxis: { type: 'value', minInterval: 1 },
    tooltip: { trigger: 'axis' },
    series: [
      { name: t('counts.submitted'), type: 'line', data: today.days.map((d) => d.submitted), itemStyle: { color: '#1f4e8c' } },
      { name: t('counts.delivered'), type: 'line', data: today.days.map((d) => d.delivered), itemStyle: { color: '#2f7d4f' } },
      { name: t('counts.failed'), type: 'line', data: today.days.map((d) => d.failed), itemStyle: { color: '#b3261e' } },
    ],
  }, [today, t]);

  const tile = (key: 'submitted' | 'delivered' | 'deferred' | 'failed') => {
    const value = today?.counts[key];
    return (
      <div className={`tile tile-${key}`} key={key}>
        <div className="tile-label">{t(`counts.${key}`)}</div>
        <div className="tile-value" data-testid={`today-${key}`}>{value === undefined ? '—' : `${formatNumber(value)}${today?.truncated ? '+' : ''}`}</div>
        <Trend now={value} before={today?.yesterday?.[key]} />
      </div>
    );
  };

  return (
    <Page title={t('dashboard.title')} subtitle={t('dashboard.subtitle', { zone: timeZone() })}>
      {error ? <Notice kind="error">{t('errors.load')}</Notice> : null}
      <div className="tiles" data-ready={today ? 'true' : 'false'} data-testid="dashboard-tiles">
        {TILES.map(tile)}
      </div>
      {today?.source === 'events' ? (
        <Notice>{t('dashboard.fromEvents', { max: formatNumber(MAX_EVENT_PAGES * EVENT_PAGE) })}</Notice>
      ) : null}
      <div className="grid-2">
        <Card title={t('dashboard.last24h')}>
          {hourOption ? <Chart option={hourOption} label={t('dashboard.last24h')} /> : <div className="chart-placeholder">{t('common.loading')}</div>}
        </Card>
        <Card title={t('dashboard.last30d')}>
          {dayOption ? <Chart option={dayOption} label={t('dashboard.last30d')} /> : (
            <div className="chart-placeholder">{today?.source === 'events' ? t('dashboard.awaitingStats') : t('common.loading')}</div>
          )}
        </Card>
      </div>
      <div className="grid-3">
        {session.can('queue.read') ? (
          <Card title={t('dashboard.queue')}>
            {queue.data ? (
              queue.data.lanes.length ? (
                <dl className="facts">
                  {queue.data.lanes.map((l) => (
                    <div key={l.lane}><dt>{t(`lanes.${l.lane}`, { defaultValue: l.lane })}</dt><dd>{t('dashboard.queued', { count: l.queued, n: formatNumber(l.queued) })} · {t('dashboard.oldest', { at: formatDateTime(l.oldestQueuedAt) })}</dd></div>
                  ))}
                </dl>
              ) : <p className="muted">{t('dashboard.queueEmpty')}</p>
            ) : <p className="muted">{t('common.loading')}</p>}
          </Card>
        ) : null}
        <Card title={t('dashboard.failureReasons')}>
          {failures === undefined ? <p className="muted">{t('common.loading')}</p> : failures === null ? <p className="muted">{t('dashboard.awaitingStats')}</p> : (
            <dl className="facts">
              <div><dt>{t('failures.userUnknown')}</dt><dd>{formatNumber(failures.userUnknown ?? 0)}</dd></div>
              <div><dt>{t('failures.mailboxFull')}</dt><dd>{formatNumber(failures.mailboxFull ?? 0)}</dd></div>
              <div><dt>{t('failures.rejected')}</dt><dd>{formatNumber(failures.rejected ?? 0)}</dd></div>
              <div><dt>{t('failures.other')}</dt><dd>{formatNumber(failures.other ?? 0)}</dd></div>
            </dl>
          )}
        </Card>
        <Card title={t('dashboard.quotaAlerts')}>
          {accounts.data ? (alerts.length ? (
            <ul className="plain">
              {alerts.map((a) => (
                <li key={a.id}>
                  <Link to={`/tenants/${a.tenantId}`}>{a.name}</Link>{' '}
                  {a.status === 'held' ? t('dashboard.held') : t('dashboard.quotaUsed', { percent: formatPercent(a.used / (a.quota ?? 1)) })}
                </li>
              ))}
            </ul>
          ) : <p className="muted">{t('dashboard.noAlerts')}</p>) : <p className="muted">{t('common.loading')}</p>}
        </Card>
      </div>
      <OperationsWidgets />
    </Page>
  );
}
