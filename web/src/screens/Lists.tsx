import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api/client';
import type { Items } from '../api/types';
import { useSession } from '../app/session';
import { formatDateTime, formatNumber } from '../ui/format';
import { ErrorBox, Notice, TextField, useAction } from '../ui/Form';
import { Card, Page } from '../ui/Page';
import { PAGE_SIZE, PagePager, Table, usePage } from '../ui/Table';
import { effectiveTenant, TenantPicker } from '../ui/TenantPicker';
import { useApi } from '../ui/useApi';
import { useUrlState } from '../ui/useUrlState';

export interface ListView {
  id: string;
  tenantId: string;
  name: string;
  description: string | null;
  doubleOptIn: boolean;
  createdAt: number;
  counts: Record<string, number>;
}

function CreateList({ tenantId, onDone }: { tenantId: string; onDone: () => void }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [doubleOptIn, setDoubleOptIn] = useState(false);
  const action = useAction(async () => {
    await api.post(`/tenants/${tenantId}/lists`, { name: name.trim(), description: description.trim() || null, doubleOptIn });
    setName('');
    setDescription('');
    onDone();
  });
  return (
    <Card title={t('lists.create')}>
      <form className="form-row" onSubmit={(e) => { e.preventDefault(); void action.run(); }}>
        <TextField label={t('lists.name')} name="name" value={name} onChange={(e) => setName(e.target.value)} error={action.error} required />
        <TextField label={t('lists.description')} name="description" value={description} onChange={(e) => setDescription(e.target.value)} error={action.error} />
        <label className="check"><input type="checkbox" name="doubleOptIn" checked={doubleOptIn} onChange={(e) => setDoubleOptIn(e.target.checked)} /> {t('lists.doubleOptIn')}</label>
        <div className="form-actions"><button className="btn btn-primary" disabled={action.busy}>{t('common.create')}</button></div>
      </form>
      <ErrorBox error={action.error} />
    </Card>
  );
}

export default function Lists() {
  const { t } = useTranslation();
  const session = useSession();
  const page = usePage();
  const { values, set } = useUrlState(['tenantId'] as const);
  const tenantId = effectiveTenant(session.tenantScope, values.tenantId);
  const [creating, setCreating] = useState(false);
  const lists = useApi<Items<ListView>>(tenantId ? `/tenants/${tenantId}/lists` : null);
  const all = lists.data?.items ?? [];
  const rows = all.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  return (
    <Page title={t('lists.title')} subtitle={t('lists.subtitle')}
      actions={tenantId && session.can('lists.write') ? <button className="btn btn-primary" onClick={() => setCreating((v) => !v)}>{t('lists.create')}</button> : null}>
      <div className="filters"><TenantPicker value={values.tenantId} onChange={(v) => set({ tenantId: v })} /></div>
      {!tenantId ? <Notice>{t('common.pickTenantFirst')}</Notice> : null}
      {creating && tenantId ? <CreateList tenantId={tenantId} onDone={() => { setCreating(false); lists.reload(); }} /> : null}
      <ErrorBox error={lists.error} />
      {tenantId ? (
        <>
          <Table<ListView> rows={lists.data ? rows : undefined} loading={lists.loading} rowKey={(l) => l.id} columns={[
            { key: 'name', header: t('lists.name'), cell: (l) => <Link to={`/lists/${l.tenantId}/${l.id}`}>{l.name}</Link> },
            { key: 'description', header: t('lists.description'), cell: (l) => l.description || '—' },
            { key: 'subscribed', header: t('memberStatus.subscribed'), className: 'num', cell: (l) => formatNumber(l.counts.subscribed ?? 0) },
            { key: 'unconfirmed', header: t('memberStatus.unconfirmed'), className: 'num', cell: (l) => formatNumber(l.counts.unconfirmed ?? 0) },
            { key: 'unsubscribed', header: t('memberStatus.unsubscribed'), className: 'num', cell: (l) => formatNumber(l.counts.unsubscribed ?? 0) },
            { key: 'optin', header: t('lists.doubleOptIn'), cell: (l) => (l.doubleOptIn ? t('common.yes') : t('common.no')) },
            { key: 'created', header: t('common.createdAt'), cell: (l) => formatDateTime(l.createdAt) },
          ]} />
          <PagePager page={page} pageSize={PAGE_SIZE} total={all.length} count={rows.length} />
        </>
      ) : null}
    </Page>
  );
}
