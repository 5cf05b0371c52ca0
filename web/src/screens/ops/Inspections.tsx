import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { CHECK_CATEGORIES, CHECK_STATUSES } from '../../api/operations';
import type { Inspection, InspectionSummary, SeriesPoint } from '../../api/operations';
import { useSession } from '../../app/session';
import { Chart } from '../../ui/Chart';
import { formatDateTime } from '../../ui/format';
import { ErrorBox, Notice, SelectField, useAction } from '../../ui/Form';
import { Card, Page } from '../../ui/Page';
import { CursorPager, Table } from '../../ui/Table';
import { useApi } from '../../ui/useApi';
import { useUrlState } from '../../ui/useUrlState';
import { CheckBadge, checkName, ReportLinks, STATUS_COLOURS, worstStatus } from './common';

/** Checks with a number worth drawing over time (the series endpoint's `numeric`). */
const SERIES_KEYS = ['cpu', 'memory', 'disk', 'database', 'queue_depth', 'queue_oldest', 'smtp', 'http', 'bounce_listener', 'send_receive', 'tls_certificate'] as const;
const CHART_ROWS = 60;

/** The newest inspection's checks, by category, each with its status. */
function Latest({ id }: { id: string }) {
  const { t } = useTranslation();
  const latest = useApi<Inspection>(`/inspections/${id}`);
  const r = latest.data;
  if (!r) return <ErrorBox error={latest.error} />;
  const categories = CHECK_CATEGORIES.filter((c) => r.checks.some((x) => x.category === c));
  return (
    <Card title={t('inspections.latest')} actions={<Link className="btn btn-small" to={`/ops/inspections/${r.id}`}>{t('inspections.open')}</Link>}>
      <div className="latest-head" data-testid="latest-inspection">
        <CheckBadge status={r.status} />
        <span>{formatDateTime(r.finishedAt)}</span>
        <span className="muted">{t(`inspections.kinds.${r.kind}`)} · {t(`inspections.triggers.${r.trigger}`, { defaultValue: r.trigger })}</span>
        <span className="muted">{CHECK_STATUSES.map((s) => `${t(`checkStatus.${s}`)} ${r.counts[s]}`).join(' · ')}</span>
      </div>
      <div className="category-grid">
        {categories.map((c) => {
          const checks = r.checks.filter((x) => x.category === c);
          const worst = worstStatus(checks);
          return (
            <div className={`category category-${worst}`} key={c} data-testid={`category-${c}`}>
              <div className="category-title"><strong>{t(`categories.${c}`)}</strong> <CheckBadge status={worst} /></div>
              <ul className="plain check-list">
                {checks.map((x) => <li key={`${x.key}/${x.subject ?? ''}`} title={x.message}><span>{checkName(t, x)}</span> <CheckBadge status={x.status} /></li>)}
              </ul>
            </div>
          );
        })}
      </div>
      {r.changes.length ? <p className="muted small">{t('inspections.changesSince', { count: r.changes.length })}</p> : null}
    </Card>
  );
}

/** One check's numbers over the last 30 days. */
function SeriesChart() {
  const { t } = useTranslation();
  const [key, setKey] = useState<(typeof SERIES_KEYS)[number]>('cpu');
  const from = useMemo(() => new Date(Date.now() - 30 * 86_400_000).toISOString(), []);
  const series = useApi<{ points: SeriesPoint[] }>('/inspections/series', { key, from });
  const points = (series.data?.points ?? []).filter((p) => p.numeric !== null);
  const option = useMemo(() => ({
    grid: { left: 56, right: 16, top: 16, bottom: 28 },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', scale: true },
    tooltip: { trigger: 'axis' },
    series: [{
      name: t(`checks.${key}`), type: 'line', showSymbol: true, symbolSize: 7,
      data: points.map((p) => ({ value: [p.at, p.numeric], itemStyle: { color: STATUS_COLOURS[p.status] } })),
      lineStyle: { color: '#1f4e8c' },
    }],
  }), [points, key, t]);
  return (
    <Card title={t('inspections.seriesTitle')} actions={
      <SelectField label={t('inspections.metric')} name="metric" value={key} onChange={(e) => setKey(e.target.value as (typeof SERIES_KEYS)[number])}>
        {SERIES_KEYS.map((k) => <option key={k} value={k}>{t(`checks.${k}`)}</option>)}
      </SelectField>
    }>
      {points.length ? <Chart option={option} height={240} label={t('inspections.seriesTitle')} /> : <div className="chart-placeholder">{series.loading ? t('common.loading') : t('inspections.noSeries')}</div>}
    </Card>
  );
}

export default function Inspections() {
  const { t } = useTranslation();
  const session = useSession();
  const { values, params, set } = useUrlState(['kind'] as const);
  const before = params.get('before') ?? undefined;
  const list = useApi<{ items: InspectionSummary[]; nextBefore: string | null }>('/inspections', { kind: values.kind || undefined, before, limit: 25 });
  // The chart shows the latest inspections whatever page the table is on.
  const recent = useApi<{ items: InspectionSummary[] }>('/inspections', { kind: values.kind || undefined, limit: CHART_ROWS });
  const [ran, setRan] = useState<Inspection | null>(null);
  const run = useAction(async (kind: 'full' | 'light') => {
    const report = await api.post<Inspection>('/inspections', { kind });
    setRan(report);
    list.reload();
    recent.reload();
  });
  const history = useMemo(() => [...(recent.data?.items ?? [])].reverse(), [recent.data]);
  const option = useMemo(() => ({
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: history.map((i) => formatDateTime(i.startedAt).slice(5, 16)) },
    yAxis: { type: 'value', minInterval: 1 },
    tooltip: { trigger: 'axis' },
    series: CHECK_STATUSES.map((s) => ({ name: t(`checkStatus.${s}`), type: 'bar', stack: 'checks', data: history.map((i) => i.counts[s]), itemStyle: { color: STATUS_COLOURS[s] } })),
  }), [history, t]);
  const newest = recent.data?.items[0];

  return (
    <Page title={t('inspections.title')} subtitle={t('inspections.subtitle')}
      actions={session.can('inspections.run') ? (
        <>
          <button className="btn btn-primary" disabled={run.busy} onClick={() => void run.run('full')}>{run.busy ? t('inspections.running') : t('inspections.runFull')}</button>
          <button className="btn" disabled={run.busy} onClick={() => void run.run('light')}>{t('inspections.runLight')}</button>
        </>
      ) : null}>
      <ErrorBox error={run.error ?? list.error} />
      {ran ? (
        <Notice kind={ran.status === 'ok' ? 'success' : ran.status === 'warning' ? 'warning' : 'error'}>
          {t('inspections.ranNotice', { status: t(`checkStatus.${ran.status}`) })} <Link to={`/ops/inspections/${ran.id}`}>{t('inspections.open')}</Link>
        </Notice>
      ) : null}
      {newest ? <Latest id={newest.id} key={newest.id} /> : null}
      <div className="grid-2">
        <Card title={t('inspections.historyChart')}>
          {history.length ? <Chart option={option} height={240} label={t('inspections.historyChart')} /> : <div className="chart-placeholder">{recent.loading ? t('common.loading') : t('inspections.none')}</div>}
        </Card>
        <SeriesChart />
      </div>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <SelectField label={t('inspections.kind')} name="kind" value={values.kind} onChange={(e) => set({ kind: e.target.value })}>
          <option value="">{t('common.all')}</option>
          <option value="full">{t('inspections.kinds.full')}</option>
          <option value="light">{t('inspections.kinds.light')}</option>
        </SelectField>
      </form>
      <Table<InspectionSummary> rows={list.data?.items} loading={list.loading} rowKey={(r) => r.id} columns={[
        { key: 'at', header: t('inspections.finishedAt'), cell: (r) => <Link to={`/ops/inspections/${r.id}`}>{formatDateTime(r.finishedAt)}</Link> },
        { key: 'kind', header: t('inspections.kind'), cell: (r) => t(`inspections.kinds.${r.kind}`) },
        { key: 'trigger', header: t('inspections.trigger'), cell: (r) => t(`inspections.triggers.${r.trigger}`, { defaultValue: r.trigger }) },
        { key: 'status', header: t('common.status'), cell: (r) => <CheckBadge status={r.status} /> },
        { key: 'counts', header: t('inspections.counts'), cell: (r) => CHECK_STATUSES.map((s) => `${t(`checkStatus.${s}`)} ${r.counts[s]}`).join(' · ') },
        { key: 'changes', header: t('inspections.changes'), className: 'num', cell: (r) => r.changes },
        { key: 'report', header: t('inspections.report'), cell: (r) => <ReportLinks compact base={`/inspections/${r.id}/report`} /> },
      ]} />
      <CursorPager next={list.data?.nextBefore} param="before" />
    </Page>
  );
}
