import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, uploadFile } from '../api/client';
import { formatNumber } from '../ui/format';
import { ErrorBox, SelectField, useAction } from '../ui/Form';
import { Badge, Card, Progress } from '../ui/Page';
import { Table } from '../ui/Table';

interface ImportView {
  id: string;
  status: string;
  rowsRead: number;
  imported: number;
  updated: number;
  duplicates: number;
  errorCount: number;
  errors: { line: number; reason: string }[];
  message: string | null;
}

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/**
 * Imports a CSV or XLSX file into a list. The server imports rows as the file streams in, so
 * the bar follows the upload and the counts follow the server's own progress (polled).
 */
export function ImportPanel({ tenantId, listId, onDone }: { tenantId: string; listId: string; onDone: () => void }) {
  const { t } = useTranslation();
  const fileRef = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState('subscribed');
  const [fileName, setFileName] = useState('');
  const [sent, setSent] = useState({ loaded: 0, total: 0 });
  const [job, setJob] = useState<ImportView | null>(null);
  const action = useAction(async () => {
    const file = fileRef.current?.files?.[0];
    if (!file) return;
    const format = /\.xlsx$/i.test(file.name) ? 'xlsx' : 'csv';
    setSent({ loaded: 0, total: file.size });
    const created = await api.post<ImportView>(`/tenants/${tenantId}/lists/${listId}/imports`, { format, fileName: file.name });
    setJob(created);
    let finished = false;
    const poll = async () => {
      while (!finished) {
        await new Promise((r) => window.setTimeout(r, 400));
        if (finished) break;
        try {
          setJob(await api.get<ImportView>(`/tenants/${tenantId}/imports/${created.id}`));
        } catch {
          // The final answer of the upload below tells what happened.
        }
      }
    };
    void poll();
    try {
      await uploadFile(`/tenants/${tenantId}/imports/${created.id}/file?status=${status}`, file, format === 'csv' ? 'text/csv' : XLSX, (loaded, total) => setSent({ loaded, total }));
    } finally {
      finished = true;
      setJob(await api.get<ImportView>(`/tenants/${tenantId}/imports/${created.id}`));
      onDone();
    }
  });
  const done = job && (job.status === 'completed' || job.status === 'failed');
  return (
    <Card title={t('imports.title')}>
      <form className="form-row" onSubmit={(e) => { e.preventDefault(); void action.run(); }}>
        <div className="field">
          <span className="field-label" id="import-file-label">{t('imports.file')}</span>
          {/* The browser's own file button speaks the browser's language; this one speaks the console's. */}
          <div className="file-pick">
            <input id="import-file" ref={fileRef} type="file" name="file" accept=".csv,.xlsx,text/csv" required aria-labelledby="import-file-label" onChange={(e) => setFileName(e.target.files?.[0]?.name ?? '')} />
            <label htmlFor="import-file" className="btn">{t('imports.choose')}</label>
            <span className="file-name">{fileName || t('imports.noFile')}</span>
          </div>
          <div className="field-hint">{t('imports.fileHint')}</div>
        </div>
        <SelectField label={t('imports.statusAs')} name="status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="subscribed">{t('memberStatus.subscribed')}</option>
          <option value="unconfirmed">{t('memberStatus.unconfirmed')}</option>
        </SelectField>
        <div className="form-actions"><button className="btn btn-primary" disabled={action.busy}>{t('imports.start')}</button></div>
      </form>
      <ErrorBox error={action.error} />
      {job ? (
        <div className="import-progress" data-testid="import-progress" data-status={job.status}>
          <Progress value={done ? sent.total || 1 : sent.loaded} max={sent.total || 1} label={t('imports.progress')} />
          <p>
            <Badge kind={job.status === 'completed' ? 'ok' : job.status === 'failed' ? 'bad' : 'info'}>{t(`imports.states.${job.status}`, { defaultValue: job.status })}</Badge>{' '}
            <span data-testid="import-counts">{t('imports.counts', { read: formatNumber(job.rowsRead), imported: formatNumber(job.imported), updated: formatNumber(job.updated), duplicates: formatNumber(job.duplicates), errors: formatNumber(job.errorCount) })}</span>
          </p>
          {job.message ? <p className="muted">{job.message}</p> : null}
          {job.errors.length ? (
            <>
              <h3>{t('imports.lineErrors')}</h3>
              <Table rows={job.errors} rowKey={(e) => `${e.line}:${e.reason}`} columns={[
                { key: 'line', header: t('imports.line'), className: 'num', cell: (e) => e.line },
                { key: 'reason', header: t('imports.reason'), className: 'wide', cell: (e) => e.reason },
              ]} />
              {job.errorCount > job.errors.length ? <p className="muted">{t('imports.moreErrors', { n: formatNumber(job.errorCount - job.errors.length) })}</p> : null}
            </>
          ) : null}
        </div>
      ) : null}
    </Card>
  );
}
