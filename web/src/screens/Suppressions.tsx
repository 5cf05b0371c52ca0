import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../app/session';
import { formatDateTime } from '../ui/format';
import { ErrorBox, Notice, SelectField, TextField, useAction } from '../ui/Form';
import { Card, Page } from '../ui/Page';
import { PAGE_SIZE, PagePager, Table, usePage } from '../ui/Table';
import { effectiveTenant, TenantPicker } from '../ui/TenantPicker';
import { useApi } from '../ui/useApi';
import { useUrlState } from '../ui/useUrlState';

interface Suppression {
  id: number;
  address: string;
  reason: string;
  bounceReason: string | null;
  source: string;
  createdAt: number;
}

const REASONS = ['hard_bounce', 'complaint', 'unsubscribe', 'soft_bounce_threshold', 'manual'] as const;

export default function Suppressions() {
  const { t } = useTranslation();
  const session = useSession();
  const page = usePage();
  const { values, params, set } = useUrlState(['tenantId', 'search', 'reason'] as const);
  const tenantId = effectiveTenant(session.tenantScope, values.tenantId);
  const list = useApi<{ items: Suppression[]; total: number }>(tenantId ? `/tenants/${tenantId}/suppressions` : null, {
    search: values.search || undefined, reason: values.reason || undefined, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE,
  });
  const [address, setAddress] = useState('');
  const [note, setNote] = useState('');
  const add = useAction(async () => {
    await api.post(`/tenants/${tenantId}/suppressions`, { address: address.trim(), ...(note.trim() ? { note: note.trim() } : {}) });
    setAddress('');
    setNote('');
    list.reload();
  });
  const remove = useAction(async (a: string) => {
    if (!window.confirm(t('suppressions.confirmRemove', { address: a }))) return;
    await api.del(`/tenants/${tenantId}/suppressions/${encodeURIComponent(a)}`);
    list.reload();
  });
  const writer = session.can('suppressions.write');
  return (
    <Page title={t('suppressions.title')} subtitle={t('suppressions.subtitle')}>
      <form className="filters" key={params.toString()} onSubmit={(e: FormEvent<HTMLFormElement>) => { e.preventDefault(); const f = new FormData(e.currentTarget); set({ search: String(f.get('search') ?? '').trim(), reason: String(f.get('reason') ?? '') }); }}>
        <TenantPicker value={values.tenantId} onChange={(v) => set({ tenantId: v })} />
        <TextField label={t('suppressions.search')} name="search" type="search" defaultValue={values.search} />
        <SelectField label={t('suppressions.reason')} name="reason" defaultValue={values.reason}>
          <option value="">{t('common.all')}</option>
          {REASONS.map((r) => <option key={r} value={r}>{t(`suppressions.reasons.${r}`)}</option>)}
        </SelectField>
        <div className="form-actions"><button className="btn btn-primary">{t('common.search')}</button></div>
      </form>
      {!tenantId ? <Notice>{t('common.pickTenantFirst')}</Notice> : null}
      {tenantId && writer ? (
        <Card title={t('suppressions.add')}>
          <form className="form-row" onSubmit={(e) => { e.preventDefault(); void add.run(); }}>
            <TextField label={t('suppressions.address')} name="address" type="email" value={address} onChange={(e) => setAddress(e.target.value)} error={add.error} required />
            <TextField label={t('suppressions.note')} name="note" value={note} onChange={(e) => setNote(e.target.value)} error={add.error} />
            <div className="form-actions"><button className="btn btn-primary" disabled={add.busy}>{t('suppressions.addButton')}</button></div>
          </form>
          <ErrorBox error={add.error} />
        </Card>
      ) : null}
      <ErrorBox error={list.error ?? remove.error} />
      {tenantId ? (
        <>
          <Table<Suppression> rows={list.data?.items} loading={list.loading} rowKey={(s) => s.id} columns={[
            { key: 'address', header: t('suppressions.address'), cell: (s) => s.address },
            { key: 'reason', header: t('suppressions.reason'), cell: (s) => t(`suppressions.reasons.${s.reason}`, { defaultValue: s.reason }) },
            { key: 'bounce', header: t('suppressions.bounceReason'), cell: (s) => (s.bounceReason ? t(`reasons.${s.bounceReason}`, { defaultValue: s.bounceReason }) : '—') },
            { key: 'source', header: t('suppressions.source'), cell: (s) => s.source },
            { key: 'created', header: t('common.createdAt'), cell: (s) => formatDateTime(s.createdAt) },
            ...(writer ? [{ key: 'actions', header: t('common.actions'), cell: (s: Suppression) => <button className="btn btn-small" onClick={() => void remove.run(s.address)}>{t('suppressions.remove')}</button> }] : []),
          ]} />
          <PagePager page={page} pageSize={PAGE_SIZE} total={list.data?.total} count={list.data?.items.length ?? 0} />
        </>
      ) : null}
    </Page>
  );
}
