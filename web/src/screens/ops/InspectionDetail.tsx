import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { CHECK_CATEGORIES, CHECK_STATUSES } from '../../api/operations';
import type { Check, CheckChange, Inspection } from '../../api/operations';
import { formatDateTime } from '../../ui/format';
import { ErrorBox } from '../../ui/Form';
import { Card, Page } from '../../ui/Page';
import { Table } from '../../ui/Table';
import { useApi } from '../../ui/useApi';
import { CheckBadge, checkName, ReportLinks, showValue } from './common';

/** One inspection: its checks by category, what changed since the previous one, its report. */
export default function InspectionDetail() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const inspection = useApi<Inspection>(`/inspections/${encodeURIComponent(id)}`);
  const r = inspection.data;
  const categories = r ? CHECK_CATEGORIES.filter((c) => r.checks.some((x) => x.category === c)) : [];
  return (
    <Page title={t('inspections.detailTitle')} subtitle={<><Link to="/ops/inspections">{t('inspections.back')}</Link>{r ? <> · <code>{r.id}</code></> : null}</>}>
      <ErrorBox error={inspection.error} />
      {r ? (
        <>
          <div className="grid-2">
            <Card title={t('inspections.summary')}>
              <dl className="facts">
                <div><dt>{t('common.status')}</dt><dd data-testid="inspection-status"><CheckBadge status={r.status} /></dd></div>
                <div><dt>{t('inspections.startedAt')}</dt><dd>{formatDateTime(r.startedAt)}</dd></div>
                <div><dt>{t('inspections.finishedAt')}</dt><dd>{formatDateTime(r.finishedAt)}</dd></div>
                <div><dt>{t('inspections.kind')}</dt><dd>{t(`inspections.kinds.${r.kind}`)} · {t(`inspections.triggers.${r.trigger}`, { defaultValue: r.trigger })}</dd></div>
                <div><dt>{t('inspections.node')}</dt><dd>{r.nodeId}</dd></div>
                <div><dt>{t('inspections.operator')}</dt><dd>{r.operator || '—'}</dd></div>
                <div><dt>{t('inspections.counts')}</dt><dd>{CHECK_STATUSES.map((s) => `${t(`checkStatus.${s}`)} ${r.counts[s]}`).join(' · ')}</dd></div>
              </dl>
              <h3 className="subhead">{t('inspections.report')}</h3>
              <ReportLinks base={`/inspections/${r.id}/report`} />
            </Card>
            <Card title={t('inspections.changesTitle')} actions={r.previousId ? <Link className="btn btn-small" to={`/ops/inspections/${r.previousId}`}>{t('inspections.previous')}</Link> : null}>
              {!r.previousId ? <p className="muted">{t('inspections.firstOfKind')}</p> : r.changes.length ? (
                <Table<CheckChange> rows={r.changes} rowKey={(c) => `${c.key}/${c.subject ?? ''}`} columns={[
                  { key: 'check', header: t('inspections.check'), cell: (c) => checkName(t, c) },
                  { key: 'from', header: t('inspections.before'), cell: (c) => (c.from ? <CheckBadge status={c.from} /> : t('inspections.notChecked')) },
                  { key: 'to', header: t('inspections.now'), cell: (c) => (c.to ? <CheckBadge status={c.to} /> : t('inspections.notChecked')) },
                  { key: 'message', header: t('inspections.message'), className: 'wide', cell: (c) => c.message },
                ]} />
              ) : <p className="muted" data-testid="no-changes">{t('inspections.noChanges')}</p>}
            </Card>
          </div>
          {categories.map((c) => (
            <Card key={c} title={t(`categories.${c}`)}>
              <Table<Check> rows={r.checks.filter((x) => x.category === c)} rowKey={(x) => `${x.key}/${x.subject ?? ''}`} columns={[
                { key: 'check', header: t('inspections.check'), cell: (x) => checkName(t, x) },
                { key: 'status', header: t('common.status'), cell: (x) => <CheckBadge status={x.status} /> },
                { key: 'value', header: t('inspections.value'), cell: (x) => showValue(x.value) },
                { key: 'threshold', header: t('inspections.threshold'), cell: (x) => showValue(x.threshold) },
                { key: 'message', header: t('inspections.message'), className: 'wide', cell: (x) => x.message },
              ]} />
            </Card>
          ))}
        </>
      ) : null}
    </Page>
  );
}
