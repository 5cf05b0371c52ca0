import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api } from '../api/client';
import type { Items, Tenant } from '../api/types';
import { useSession } from '../app/session';
import { formatNumber } from '../ui/format';
import { ErrorBox, SelectField, TextField, useAction } from '../ui/Form';
import { QuotaBar } from '../ui/Gauge';
import { Badge, Card, Page } from '../ui/Page';
import { CursorPager, PAGE_SIZE, Table } from '../ui/Table';
import { useApi } from '../ui/useApi';
import { useUrlState } from '../ui/useUrlState';

export const statusKind = (s: string) => (s === 'active' ? 'ok' : s === 'held' ? 'warn' : 'bad');

function CreateTenant({ onDone }: { onDone: (t: Tenant) => void }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [accountType, setAccountType] = useState('bulk');
  const action = useAction(async () => api.post<Tenant>('/tenants', { name: name.trim(), accountType }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await action.run();
    if (created) onDone(created);
  };
  return (
    <Card title={t('tenants.create')}>
      <form className="form-row" onSubmit={submit}>
        <TextField label={t('tenants.name')} name="name" value={name} onChange={(e) => setName(e.target.value)} error={action.error} required />
        <SelectField label={t('tenants.accountType')} name="accountType" value={accountType} onChange={(e) => setAccountType(e.target.value)} error={action.error}>
          <option value="bulk">{t('tenants.types.bulk')}</option>
          <option value="transactional">{t('tenants.types.transactional')}</option>
        </SelectField>
        <div className="form-actions"><button className="btn btn-primary" disabled={action.busy}>{t('common.create')}</button></div>
      </form>
      <ErrorBox error={action.error} />
    </Card>
  );
}

export default function Tenants() {
  const { t } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const { values, params, set } = useUrlState(['q', 'status'] as const);
  const [creating, setCreating] = useState(false);
  // Paged on the server (keyset on the name); the filters and the cursor are in the address.
  const { data, error, loading } = useApi<Items<Tenant> & { nextCursor: string | null }>('/tenants', { q: values.q || undefined, status: values.status || undefined, limit: PAGE_SIZE, cursor: params.get('cursor') ?? undefined });

  return (
    <Page title={t('tenants.title')} subtitle={t('tenants.subtitle')}
      actions={session.can('tenants.write') ? <button className="btn btn-primary" onClick={() => setCreating((v) => !v)}>{t('tenants.create')}</button> : null}>
      {creating ? <CreateTenant onDone={(x) => navigate(`/tenants/${x.id}`)} /> : null}
      <form className="filters" onSubmit={(e) => { e.preventDefault(); const f = new FormData(e.currentTarget); set({ q: String(f.get('q') ?? ''), status: String(f.get('status') ?? '') }); }}>
        <TextField label={t('common.search')} name="q" defaultValue={values.q} key={`q${values.q}`} />
        <SelectField label={t('common.status')} name="status" defaultValue={values.status} key={`s${values.status}`}>
          <option value="">{t('common.all')}</option>
          <option value="active">{t('status.active')}</option>
          <option value="suspended">{t('status.suspended')}</option>
        </SelectField>
        <div className="form-actions"><button className="btn">{t('common.filter')}</button></div>
      </form>
      <ErrorBox error={error} />
      <Table<Tenant> loading={loading} rows={data?.items} rowKey={(r) => r.id} columns={[
        { key: 'name', header: t('tenants.name'), cell: (r) => <Link to={`/tenants/${r.id}`}>{r.name}</Link> },
        { key: 'type', header: t('tenants.accountType'), cell: (r) => t(`tenants.types.${r.accountType}`, { defaultValue: r.accountType }) },
        { key: 'status', header: t('common.status'), cell: (r) => <Badge kind={statusKind(r.status)}>{t(`status.${r.status}`, { defaultValue: r.status })}</Badge> },
        { key: 'domains', header: t('tenants.domains'), cell: (r) => r.domains.join(', ') || '—' },
        { key: 'purchased', header: t('quota.purchased'), className: 'num', cell: (r) => (r.purchased === null ? t('quota.unlimited') : formatNumber(r.purchased)) },
        { key: 'used', header: t('quota.used'), className: 'num', cell: (r) => formatNumber(r.used) },
        { key: 'remaining', header: t('quota.remaining'), className: 'num', cell: (r) => (r.remaining === null ? '—' : formatNumber(r.remaining)) },
        { key: 'bar', header: t('quota.usage'), cell: (r) => <QuotaBar quota={r.purchased} used={r.used} /> },
      ]} />
      <CursorPager next={data?.nextCursor} />
    </Page>
  );
}
