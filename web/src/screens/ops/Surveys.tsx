import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { SCORE_FIELDS } from '../../api/operations';
import type { SurveyStats } from '../../api/operations';
import { Chart } from '../../ui/Chart';
import { ErrorBox, SelectField, TextField } from '../../ui/Form';
import { Badge, Card, Page } from '../../ui/Page';
import { Table } from '../../ui/Table';
import { useApi } from '../../ui/useApi';
import { useUrlState } from '../../ui/useUrlState';

const SCORE_COLOURS = ['#1f4e8c', '#2f7d4f', '#c48a1b', '#7a4ea3'];

/** A date input (YYYY-MM-DD, the browser's day) as the instant that day starts, or ends. */
const dayStart = (d: string) => (d ? new Date(`${d}T00:00:00`).toISOString() : undefined);
const dayEnd = (d: string) => (d ? new Date(new Date(`${d}T00:00:00`).getTime() + 86_400_000).toISOString() : undefined);

/** Satisfaction survey averages per engineer or per month (客户满意度), with a chart. */
export default function Surveys() {
  const { t } = useTranslation();
  const { values, set } = useUrlState(['groupBy', 'from', 'to'] as const);
  const groupBy = values.groupBy === 'month' ? 'month' : 'engineer';
  const stats = useApi<{ items: SurveyStats[]; total: SurveyStats }>('/surveys/stats', { groupBy, from: dayStart(values.from), to: dayEnd(values.to) });
  const items = stats.data?.items ?? [];
  const label = (g: string) => (groupBy === 'engineer' && g === 'unassigned' ? t('tickets.unassigned') : g);
  const option = useMemo(() => ({
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: items.map((i) => label(i.group)) },
    yAxis: { type: 'value', min: 0, max: 5 },
    tooltip: { trigger: 'axis' },
    series: SCORE_FIELDS.map((k, n) => ({ name: t(`surveys.scores.${k}`), type: 'bar', barMaxWidth: 36, data: items.map((i) => i.averages[k]), itemStyle: { color: SCORE_COLOURS[n] } })),
  }), [items, t, groupBy]);
  const rows = stats.data ? [...items, stats.data.total] : undefined;
  return (
    <Page title={t('surveys.title')} subtitle={t('surveys.subtitle')}>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); const f = new FormData(e.currentTarget); set({ from: String(f.get('from') ?? ''), to: String(f.get('to') ?? '') }); }}>
        <SelectField label={t('surveys.groupBy')} name="groupBy" value={groupBy} onChange={(e) => set({ groupBy: e.target.value === 'engineer' ? null : e.target.value })}>
          <option value="engineer">{t('surveys.byEngineer')}</option>
          <option value="month">{t('surveys.byMonth')}</option>
        </SelectField>
        <TextField label={t('common.from')} name="from" type="date" defaultValue={values.from} key={`f${values.from}`} />
        <TextField label={t('common.to')} name="to" type="date" defaultValue={values.to} key={`t${values.to}`} />
        <div className="form-actions"><button className="btn">{t('common.filter')}</button></div>
      </form>
      <ErrorBox error={stats.error} />
      <Card title={t('surveys.chart')}>
        {items.length ? <Chart option={option} height={260} label={t('surveys.chart')} /> : <div className="chart-placeholder">{stats.loading ? t('common.loading') : t('surveys.none')}</div>}
      </Card>
      <Table<SurveyStats> rows={rows} loading={stats.loading} rowKey={(r) => (r === stats.data?.total ? '__total' : r.group)} columns={[
        { key: 'group', header: groupBy === 'engineer' ? t('surveys.engineer') : t('surveys.month'), cell: (r) => (r === stats.data?.total ? <strong>{t('surveys.total')}</strong> : label(r.group)) },
        { key: 'count', header: t('surveys.count'), className: 'num', cell: (r) => r.count },
        ...SCORE_FIELDS.map((k) => ({ key: k, header: t(`surveys.scores.${k}`), className: 'num', cell: (r: SurveyStats) => r.averages[k].toFixed(2) })),
        { key: 'overall', header: t('surveys.overall'), className: 'num', cell: (r) => <strong>{r.averages.overall.toFixed(2)}</strong> },
        { key: 'critical', header: t('surveys.criticalCount'), className: 'num', cell: (r) => (r.critical ? <Badge kind="bad">{r.critical}</Badge> : '0') },
      ]} />
    </Page>
  );
}
