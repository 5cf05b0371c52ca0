import { useEffect, useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { withQuery } from '../api/client';
import { DIMENSIONS, failureTotal, getFailures, getSends, PERIODS, statsQuery, statsUnavailable } from '../api/stats';
import type { Dimension, FailureCounts, SendCounts, StatsAnswer } from '../api/stats';
import { useSession } from '../app/session';
import { Chart } from '../ui/Chart';
import { formatNumber, timeZone } from '../ui/format';
import { ErrorBox, TextField } from '../ui/Form';
import { Card, Page, Unavailable } from '../ui/Page';
import { Table } from '../ui/Table';
import type { Column } from '../ui/Table';
import { TenantPicker, useTenants } from '../ui/TenantPicker';
import { useUrlState } from '../ui/useUrlState';

type Kind = 'sends' | 'failures';
type Row = StatsAnswer<SendCounts & FailureCounts>['items'][number];

/** The seed's tables: 日期 / 公司名称 / IP / 域名 for sends, 日期 / 公司名称 / 域名 for failures. */
const DEFAULT_GROUPING: Record<Kind, Dimension[]> = { sends: ['date', 'tenant', 'sourceIp', 'senderDomain'], failures: ['date', 'tenant', 'senderDomain'] };
const OFFERED: Dimension[] = ['date', 'hour', 'tenant', 'account', 'sourceIp', 'clientIp', 'senderDomain', 'recipientDomain'];

export default function Stats({ kind }: { kind: Kind }) {
  const { t } = useTranslation();
  const session = useSession();
  const tenants = useTenants();
  const { values, set } = useUrlState(['period', 'from', 'to', 'groupBy', 'tenantId'] as const);
  const period = values.from ? '' : values.period || 'today';
  const groupBy = (values.groupBy ? values.groupBy.split(',') : DEFAULT_GROUPING[kind]).filter((d): d is Dimension => (DIMENSIONS as readonly string[]).includes(d));
  const queryKey = JSON.stringify(statsQuery({ period, from: values.from || undefined, to: values.to || undefined, groupBy, timezone: timeZone(), tenantId: values.tenantId || undefined }));
  const query = useMemo(() => JSON.parse(queryKey) as Record<string, string>, [queryKey]);
  const [answer, setAnswer] = useState<StatsAnswer<SendCounts & FailureCounts> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    let live = true;
    setLoading(true);
    (kind === 'sends' ? getSends(query) : getFailures(query)).then(
      (a) => { if (live) { setAnswer(a as StatsAnswer<SendCounts & FailureCounts>); setError(null); setLoading(false); } },
      (e: unknown) => { if (live) { setAnswer(null); setError(e); setLoading(false); } },
    );
    return () => { live = false; };
  }, [kind, query]);

  const endpoint = `/api/v1/stats/${kind}`;
  const unavailable = error !== null && statsUnavailable(error);
  const label = (r: Row, d: Dimension): string => {
    if (d === 'tenant') return String(r.tenantName ?? tenants.name(String(r.tenantId ?? r.tenant ?? '')));
    if (d === 'account') return String(r.accountName ?? r.account ?? r.accountId ?? '');
    return String(r[d] ?? '—');
  };
  const dimHeader = (d: Dimension) => t(`stats.dimensions.${d}`);

  const columns: Column<Row>[] = groupBy.map((d) => ({ key: d, header: dimHeader(d), cell: (r: Row) => label(r, d) }));
  if (kind === 'sends') {
    columns.push(
      { key: 'submitted', header: t('stats.sent'), className: 'num', cell: (r) => t('stats.messages', { n: formatNumber(r.submitted) }) },
      { key: 'delivered', header: t('counts.delivered'), className: 'num', cell: (r) => formatNumber(r.delivered) },
      { key: 'deferred', header: t('counts.deferred'), className: 'num', cell: (r) => formatNumber(r.deferred) },
      { key: 'failed', header: t('counts.failed'), className: 'num', cell: (r) => formatNumber(r.failed + (r.bounced ?? 0)) },
    );
  } else {
    columns.push(
      { key: 'total', header: t('stats.failedTotal'), className: 'num', cell: (r) => formatNumber(failureTotal(r)) },
      { key: 'detail', header: t('stats.detail'), className: 'wide', cell: (r) => t('stats.failureDetail', { userUnknown: formatNumber(r.userUnknown), mailboxFull: formatNumber(r.mailboxFull), rejected: formatNumber(r.rejected) }) + (r.other ? t('stats.failureOther', { other: formatNumber(r.other) }) : '') },
    );
  }

  const chart = useMemo(() => {
    if (!answer || !answer.items.length) return null;
    const timeDim = groupBy.includes('date') ? 'date' : groupBy.includes('hour') ? 'hour' : null;
    const keyOf = (r: Row) => (timeDim ? String(r[timeDim]) : groupBy.map((d) => label(r, d)).join(' · '));
    const buckets = new Map<string, Record<string, number>>();
    const series = kind === 'sends' ? ['submitted', 'delivered', 'failed'] : ['userUnknown', 'mailboxFull', 'rejected', 'other'];
    for (const r of answer.items) {
      const k = keyOf(r);
      const b = buckets.get(k) ?? Object.fromEntries(series.map((s) => [s, 0]));
      for (const s of series) b[s]! += Number((r as Record<string, unknown>)[s] ?? 0) + (s === 'failed' ? Number(r.bounced ?? 0) : 0);
      buckets.set(k, b);
    }
    const keys = [...buckets.keys()].sort().slice(0, 60);
    const colors: Record<string, string> = { submitted: '#1f4e8c', delivered: '#2f7d4f', failed: '#b3261e', userUnknown: '#8e3b8e', mailboxFull: '#c48a1b', rejected: '#b3261e', other: '#6b7785' };
    return {
      legend: { top: 0 },
      grid: { left: 56, right: 16, top: 36, bottom: 40 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: keys, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', minInterval: 1 },
      series: series.map((s) => ({
        name: kind === 'sends' ? t(`counts.${s}`) : t(`failures.${s}`), type: kind === 'sends' && timeDim ? 'line' : 'bar', stack: kind === 'failures' ? 'f' : undefined,
        data: keys.map((k) => buckets.get(k)![s]), itemStyle: { color: colors[s] }, barMaxWidth: 48,
      })),
    };
  }, [answer, groupBy, kind, t]);

  const choosePeriod = (p: string) => set({ period: p, from: null, to: null });
  const submitRange = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    set({ from: String(f.get('from') ?? ''), to: String(f.get('to') ?? ''), period: null });
  };
  const toggleDim = (d: Dimension) => {
    const next = groupBy.includes(d) ? groupBy.filter((x) => x !== d) : [...groupBy, d];
    set({ groupBy: next.join(',') || 'date' }, { resetPage: true });
  };
  const exportHref = (format: 'csv' | 'xlsx') => withQuery(endpoint, { ...query, format });
  const title = kind === 'sends' ? t('stats.sendsTitle') : t('stats.failuresTitle');
  const total = answer?.total;

  return (
    <Page title={title} subtitle={t('stats.zone', { zone: timeZone() })}
      actions={answer ? (
        <>
          <a className="btn" href={exportHref('csv')} download data-testid="export-csv">{t('stats.exportCsv')}</a>
          <a className="btn" href={exportHref('xlsx')} download data-testid="export-xlsx">{t('stats.exportXlsx')}</a>
        </>
      ) : null}>
      <div className="period-bar" role="group" aria-label={t('stats.period')}>
        {PERIODS.map((p) => (
          <button key={p} type="button" className={`btn${period === p ? ' btn-selected' : ''}`} aria-pressed={period === p} onClick={() => choosePeriod(p)}>{t(`stats.periods.${p}`)}</button>
        ))}
        <form className="range-form" onSubmit={submitRange} key={`${values.from}|${values.to}`}>
          <TextField label={t('stats.customFrom')} name="from" type="date" defaultValue={values.from} error={error} required />
          <TextField label={t('stats.customTo')} name="to" type="date" defaultValue={values.to} error={error} required />
          <button className={`btn${values.from ? ' btn-selected' : ''}`}>{t('stats.periods.custom')}</button>
        </form>
      </div>
      <div className="group-bar" role="group" aria-label={t('stats.groupBy')}>
        <span className="group-label">{t('stats.groupBy')}</span>
        {OFFERED.map((d) => (
          <label key={d} className="check"><input type="checkbox" checked={groupBy.includes(d)} onChange={() => toggleDim(d)} /> {dimHeader(d)}</label>
        ))}
        {!session.tenantScope ? <TenantPicker allowAll value={values.tenantId} onChange={(v) => set({ tenantId: v })} /> : null}
      </div>
      {unavailable ? <Unavailable endpoint={`GET ${endpoint}`} /> : <ErrorBox error={error} />}
      {answer && total ? (
        <div className="stats-summary" data-testid="stats-summary">
          <span>{t('stats.range', { from: answer.from, to: answer.to })}</span>
          {kind === 'sends'
            ? <strong data-testid="stats-total">{t('stats.totalSent', { n: formatNumber(total.submitted) })}</strong>
            : <strong data-testid="stats-total">{t('stats.totalFailed', { n: formatNumber(failureTotal(total)) })}</strong>}
        </div>
      ) : null}
      {chart ? <Card><Chart option={chart} label={title} /></Card> : null}
      {!unavailable ? <Table<Row> rows={answer?.items} loading={loading} rowKey={(r) => groupBy.map((d) => String(r[d] ?? r.tenantId ?? '')).join('|') || 'total'} columns={columns} /> : null}
    </Page>
  );
}
