import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api } from '../api/client';
import type { Domain, Items } from '../api/types';
import { useSession } from '../app/session';
import { formatDateTime } from '../ui/format';
import { ErrorBox, TextField, useAction } from '../ui/Form';
import { Badge, Card, Page } from '../ui/Page';
import { PAGE_SIZE, PagePager, Table, usePage } from '../ui/Table';
import { TenantPicker, useTenants } from '../ui/TenantPicker';
import { useApi } from '../ui/useApi';
import { useUrlState } from '../ui/useUrlState';

export interface DomainView extends Domain {
  domainUnicode: string;
  returnPathDomain: string;
  dkimSelector: string;
  requireVerification: boolean;
  verified: boolean;
  verifiedAt: string | null;
  canSend: boolean;
}

function CreateDomain({ onDone }: { onDone: (d: DomainView) => void }) {
  const { t } = useTranslation();
  const [tenantId, setTenantId] = useState('');
  const [domain, setDomain] = useState('');
  const [selector, setSelector] = useState('');
  const action = useAction(async () => api.post<DomainView>(`/tenants/${encodeURIComponent(tenantId)}/domains`, { domain: domain.trim(), ...(selector.trim() ? { selector: selector.trim() } : {}) }));
  return (
    <Card title={t('domains.create')}>
      <form className="form-row" onSubmit={async (e) => { e.preventDefault(); const d = await action.run(); if (d) onDone(d); }}>
        <TenantPicker value={tenantId} onChange={setTenantId} error={action.error} />
        <TextField label={t('domains.domain')} name="domain" value={domain} onChange={(e) => setDomain(e.target.value)} error={action.error} required placeholder={t('placeholders.domain')} />
        <TextField label={t('domains.selector')} name="selector" value={selector} onChange={(e) => setSelector(e.target.value)} error={action.error} hint={t('domains.selectorHint')} />
        <div className="form-actions"><button className="btn btn-primary" disabled={action.busy || !tenantId}>{t('common.create')}</button></div>
      </form>
      <ErrorBox error={action.error} />
    </Card>
  );
}

export default function Domains() {
  const { t } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const page = usePage();
  const tenants = useTenants();
  const { values, set } = useUrlState(['tenantId'] as const);
  const [creating, setCreating] = useState(false);
  const { data, error, loading } = useApi<Items<DomainView>>('/domains', { tenantId: values.tenantId || undefined });
  const all = data?.items ?? [];
  const rows = all.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  return (
    <Page title={t('domains.title')} subtitle={t('domains.subtitle')}
      actions={session.can('domains.write') ? <button className="btn btn-primary" onClick={() => setCreating((v) => !v)}>{t('domains.create')}</button> : null}>
      {creating ? <CreateDomain onDone={(d) => navigate(`/domains/${d.id}`)} /> : null}
      {!session.tenantScope ? (
        <div className="filters"><TenantPicker allowAll value={values.tenantId} onChange={(v) => set({ tenantId: v })} /></div>
      ) : null}
      <ErrorBox error={error} />
      <Table<DomainView> rows={data ? rows : undefined} loading={loading} rowKey={(d) => d.id} columns={[
        { key: 'domain', header: t('domains.domain'), cell: (d) => <Link to={`/domains/${d.id}`}>{d.domainUnicode || d.domain}</Link> },
        { key: 'tenant', header: t('common.tenant'), cell: (d) => tenants.name(d.tenantId) },
        { key: 'selector', header: t('domains.selector'), cell: (d) => <code>{d.dkimSelector}</code> },
        { key: 'verified', header: t('domains.verification'), cell: (d) => (d.verified ? <Badge kind="ok">{t('domains.verified')}</Badge> : <Badge kind="warn">{t('domains.notVerified')}</Badge>) },
        { key: 'checked', header: t('domains.verifiedAt'), cell: (d) => formatDateTime(d.verifiedAt) },
        { key: 'send', header: t('domains.canSend'), cell: (d) => (d.canSend ? t('common.yes') : <Badge kind="bad">{t('domains.heldUntilVerified')}</Badge>) },
      ]} />
      <PagePager page={page} pageSize={PAGE_SIZE} total={all.length} count={rows.length} />
    </Page>
  );
}
