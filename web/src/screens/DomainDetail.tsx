import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../api/client';
import type { DnsRecord } from '../api/types';
import { useSession } from '../app/session';
import { formatDateTime } from '../ui/format';
import { ErrorBox, Notice, TextField, useAction } from '../ui/Form';
import { Badge, Card, CopyButton, Page } from '../ui/Page';
import { Table } from '../ui/Table';
import { useTenants } from '../ui/TenantPicker';
import { useApi } from '../ui/useApi';
import type { DomainView } from './Domains';

interface RecordCheck {
  purpose: string;
  type: string;
  name: string;
  expected: string;
  required: boolean;
  status: 'ok' | 'missing' | 'mismatch' | 'lookup_failed';
  found: string[];
  message: string;
}
interface Report {
  status: 'verified' | 'failed' | 'lookup_failed';
  checkedAt: string;
  checks: RecordCheck[];
}
interface DkimKey {
  selector: string;
  active: boolean;
  fingerprint: string;
  createdAt: string;
  retiredAt: string | null;
}
type Detail = DomainView & { records: (DnsRecord & { required: boolean; note: string; priority?: number })[]; zoneFile: string; lastCheck: Report | null; dkimKeys: DkimKey[]; pendingDkim: { selector: string } | null };

const checkKind = (s: string) => (s === 'ok' ? 'ok' : s === 'lookup_failed' ? 'warn' : 'bad');

export default function DomainDetail() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const session = useSession();
  const tenants = useTenants();
  const domain = useApi<Detail>(`/domains/${id}`);
  const [selector, setSelector] = useState('');
  const [rotated, setRotated] = useState<string | null>(null);
  const verify = useAction(async () => {
    await api.post(`/domains/${id}/verify`);
    domain.reload();
  });
  const rotate = useAction(async (activate: boolean) => {
    if (activate && !window.confirm(t('domains.confirmRotate'))) return;
    const r = await api.post<{ zoneLine: string }>(`/domains/${id}/rotate-dkim`, { activate, ...(selector.trim() ? { selector: selector.trim() } : {}) });
    setRotated(r.zoneLine);
    setSelector('');
    domain.reload();
  });
  const activate = useAction(async () => {
    await api.post(`/domains/${id}/activate-dkim`);
    domain.reload();
  });
  const requireVerification = useAction(async (value: boolean) => {
    await api.put(`/domains/${id}/require-verification`, { requireVerification: value });
    domain.reload();
  });
  const remove = useAction(async () => {
    if (!window.confirm(t('domains.confirmDelete', { domain: domain.data?.domain }))) return;
    await api.del(`/domains/${id}`);
    navigate('/domains');
  });
  const d = domain.data;
  const checks = new Map((d?.lastCheck?.checks ?? []).map((c) => [`${c.purpose}|${c.name}`, c]));
  const admin = session.can('domains.write');

  return (
    <Page title={d ? d.domainUnicode || d.domain : t('domains.title')} subtitle={<Link to="/domains">{t('domains.backToList')}</Link>}
      actions={d ? (
        <>
          {session.can('domains.verify') ? <button className="btn btn-primary" onClick={() => void verify.run()} disabled={verify.busy}>{verify.busy ? t('domains.verifying') : t('domains.verify')}</button> : null}
          {admin ? <button className="btn btn-danger" onClick={() => void remove.run()}>{t('common.delete')}</button> : null}
        </>
      ) : null}>
      <ErrorBox error={domain.error ?? verify.error ?? remove.error} />
      {d ? (
        <>
          <div className="grid-2">
            <Card title={t('domains.summary')}>
              <dl className="facts">
                <div><dt>{t('common.tenant')}</dt><dd>{tenants.name(d.tenantId)}</dd></div>
                <div><dt>{t('domains.returnPath')}</dt><dd><code>{d.returnPathDomain}</code></dd></div>
                <div><dt>{t('domains.selector')}</dt><dd><code>{d.dkimSelector}</code>{d.pendingDkim ? <> · {t('domains.pendingKey', { selector: d.pendingDkim.selector })}</> : null}</dd></div>
                <div><dt>{t('domains.verification')}</dt><dd>{d.verified ? <Badge kind="ok">{t('domains.verified')}</Badge> : <Badge kind="warn">{t('domains.notVerified')}</Badge>} {d.lastCheck ? t('domains.lastChecked', { at: formatDateTime(d.lastCheck.checkedAt) }) : t('domains.neverChecked')}</dd></div>
                <div><dt>{t('domains.requireVerification')}</dt><dd>
                  {d.requireVerification ? t('domains.requireOn') : t('domains.requireOff')}{' '}
                  {admin ? <button className="btn btn-small" onClick={() => void requireVerification.run(!d.requireVerification)}>{d.requireVerification ? t('domains.requireTurnOff') : t('domains.requireTurnOn')}</button> : null}
                </dd></div>
              </dl>
              <ErrorBox error={requireVerification.error} />
            </Card>
            <Card title={t('domains.dkim')}>
              <Table<DkimKey> rows={d.dkimKeys} rowKey={(k) => k.selector} columns={[
                { key: 'selector', header: t('domains.selector'), cell: (k) => <code>{k.selector}</code> },
                { key: 'state', header: t('common.status'), cell: (k) => (k.active ? <Badge kind="ok">{t('domains.keySigning')}</Badge> : k.retiredAt ? <Badge>{t('domains.keyRetired')}</Badge> : <Badge kind="info">{t('domains.keyPrepared')}</Badge>) },
                { key: 'created', header: t('common.createdAt'), cell: (k) => formatDateTime(k.createdAt) },
              ]} />
              {admin ? (
                <form className="form-row" onSubmit={(e) => { e.preventDefault(); void rotate.run(true); }}>
                  <TextField label={t('domains.newSelector')} name="selector" value={selector} onChange={(e) => setSelector(e.target.value)} error={rotate.error} hint={t('domains.selectorHint')} />
                  <div className="form-actions">
                    <button className="btn btn-primary" type="submit" disabled={rotate.busy}>{t('domains.rotateNow')}</button>
                    <button className="btn" type="button" onClick={() => void rotate.run(false)} disabled={rotate.busy}>{t('domains.prepareKey')}</button>
                    {d.pendingDkim ? <button className="btn" type="button" onClick={() => void activate.run()}>{t('domains.activateKey')}</button> : null}
                  </div>
                </form>
              ) : null}
              {rotated ? <Notice kind="success">{t('domains.rotated')} <code>{rotated}</code></Notice> : null}
              <ErrorBox error={rotate.error ?? activate.error} />
            </Card>
          </div>
          <Card title={t('domains.records')} actions={<CopyButton text={d.zoneFile} label={t('domains.copyZone')} />}>
            <p className="muted small">{t('domains.recordsHelp')}</p>
            <Table rows={d.records} rowKey={(r) => `${r.purpose}|${r.name}`} columns={[
              { key: 'purpose', header: t('domains.purpose'), className: 'nowrap', cell: (r) => <>{t(`domains.purposes.${r.purpose}`, { defaultValue: r.purpose })}{r.required ? null : <span className="muted"> · {t('domains.optional')}</span>}</> },
              { key: 'type', header: t('domains.type'), className: 'nowrap', cell: (r) => r.type },
              { key: 'name', header: t('domains.host'), cell: (r) => <span className="copy-line"><code>{r.name}</code><CopyButton text={r.name} /></span> },
              { key: 'value', header: t('domains.value'), className: 'wide', cell: (r) => <span className="copy-line"><code className="wrap">{r.priority !== undefined ? `${r.priority} ${r.value}` : r.value}</code><CopyButton text={r.value} /></span> },
              { key: 'check', header: t('domains.result'), className: 'nowrap', cell: (r) => {
                const c = checks.get(`${r.purpose}|${r.name}`);
                if (!c) return <span className="muted">{t('domains.notChecked')}</span>;
                return <span title={c.message}><Badge kind={checkKind(c.status)}>{t(`domains.check.${c.status}`)}</Badge>{c.status !== 'ok' && c.found.length ? <span className="muted small block">{t('domains.found', { value: c.found.join(' | ') })}</span> : null}</span>;
              } },
            ]} />
          </Card>
        </>
      ) : null}
    </Page>
  );
}
