import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api } from '../api/client';
import type { Account, Items } from '../api/types';
import { useSession } from '../app/session';
import { formatDateTime, formatNumber, timeZone } from '../ui/format';
import { ErrorBox, SelectField, TextField, useAction } from '../ui/Form';
import { Badge, Card, Page } from '../ui/Page';
import { PAGE_SIZE, PagePager, Table, usePage } from '../ui/Table';
import { effectiveTenant, TenantPicker, useTenants } from '../ui/TenantPicker';
import { useApi } from '../ui/useApi';
import { useUrlState } from '../ui/useUrlState';
import type { ListView } from './Lists';
import type { TemplateView } from './Templates';

export interface Campaign {
  id: string;
  tenantId: string;
  accountId: string;
  name: string;
  listId: string;
  templateId: string;
  from: string;
  status: string;
  scheduledAt: string | null;
  timezone: string;
  createdBy: string;
  approvedBy: string | null;
  approvedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  note: string | null;
  progress: { total: number; queued: number; skipped: number; sent: number; delivered: number; deferred: number; bounced: number; opened: number; clicked: number; unsubscribed: number };
}

const CAMPAIGN_STATUSES = ['draft', 'pending_approval', 'approved', 'running', 'paused', 'completed', 'cancelled'] as const;

export const campaignKind = (s: string) => (s === 'completed' ? 'ok' : s === 'running' || s === 'approved' || s === 'scheduled' ? 'info' : s === 'pending_approval' || s === 'paused' ? 'warn' : s === 'cancelled' || s === 'failed' ? 'bad' : 'neutral');

function CreateCampaign({ onDone }: { onDone: (c: Campaign) => void }) {
  const { t } = useTranslation();
  const session = useSession();
  const [chosen, setChosen] = useState('');
  const tenantId = effectiveTenant(session.tenantScope, chosen);
  const accounts = useApi<Items<Account>>(tenantId ? '/accounts' : null, { tenantId });
  const lists = useApi<Items<ListView>>(tenantId ? `/tenants/${tenantId}/lists` : null);
  const templates = useApi<Items<TemplateView>>(tenantId ? '/templates' : null, { tenantId });
  const [f, setF] = useState({ name: '', accountId: '', listId: '', templateId: '', from: '', scheduledAt: '' });
  const on = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const action = useAction(async () => api.post<Campaign>('/campaigns', {
    ...(session.tenantScope ? {} : { tenantId }), name: f.name.trim(), accountId: f.accountId, listId: f.listId, templateId: f.templateId, from: f.from.trim(),
    ...(f.scheduledAt ? { scheduledAt: f.scheduledAt, timezone: timeZone() } : {}),
  }));
  return (
    <Card title={t('campaigns.create')}>
      <form className="form-grid" onSubmit={async (e: FormEvent) => { e.preventDefault(); const c = await action.run(); if (c) onDone(c); }}>
        <TenantPicker value={chosen} onChange={setChosen} error={action.error} />
        <TextField label={t('campaigns.name')} name="name" value={f.name} onChange={on('name')} error={action.error} required />
        <SelectField label={t('campaigns.account')} name="accountId" value={f.accountId} onChange={on('accountId')} error={action.error} required>
          <option value="">{t('common.choose')}</option>
          {(accounts.data?.items ?? []).map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
        </SelectField>
        <SelectField label={t('campaigns.list')} name="listId" value={f.listId} onChange={on('listId')} error={action.error} required>
          <option value="">{t('common.choose')}</option>
          {(lists.data?.items ?? []).map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
        </SelectField>
        <SelectField label={t('campaigns.template')} name="templateId" value={f.templateId} onChange={on('templateId')} error={action.error} required>
          <option value="">{t('common.choose')}</option>
          {(templates.data?.items ?? []).map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
        </SelectField>
        <TextField label={t('campaigns.from')} name="from" value={f.from} onChange={on('from')} error={action.error} required placeholder={t('placeholders.campaignFrom')} />
        <TextField label={t('campaigns.scheduledAt')} name="scheduledAt" type="datetime-local" value={f.scheduledAt} onChange={on('scheduledAt')} error={action.error} hint={t('campaigns.scheduleHint', { zone: timeZone() })} />
        <div className="form-actions"><button className="btn btn-primary" disabled={action.busy || !tenantId}>{t('campaigns.createDraft')}</button></div>
      </form>
      <ErrorBox error={action.error} />
    </Card>
  );
}

export default function Campaigns() {
  const { t } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const tenants = useTenants();
  const page = usePage();
  const { values, set } = useUrlState(['tenantId', 'status'] as const);
  const [creating, setCreating] = useState(false);
  const { data, error, loading } = useApi<Items<Campaign>>('/campaigns', { tenantId: values.tenantId || undefined });
  const all = (data?.items ?? []).filter((c) => !values.status || c.status === values.status);
  const rows = all.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  return (
    <Page title={t('campaigns.title')} subtitle={t('campaigns.subtitle')}
      actions={session.can('campaigns.write') ? <button className="btn btn-primary" onClick={() => setCreating((v) => !v)}>{t('campaigns.create')}</button> : null}>
      {creating ? <CreateCampaign onDone={(c) => navigate(`/campaigns/${c.id}`)} /> : null}
      <div className="filters">
        {!session.tenantScope ? <TenantPicker allowAll value={values.tenantId} onChange={(v) => set({ tenantId: v })} /> : null}
        <SelectField label={t('common.status')} name="status" value={values.status} onChange={(e) => set({ status: e.target.value })}>
          <option value="">{t('common.all')}</option>
          {CAMPAIGN_STATUSES.map((s) => <option key={s} value={s}>{t(`campaignStatus.${s}`)}</option>)}
        </SelectField>
      </div>
      <ErrorBox error={error} />
      <Table<Campaign> rows={data ? rows : undefined} loading={loading} rowKey={(c) => c.id} columns={[
        { key: 'name', header: t('campaigns.name'), cell: (c) => <Link to={`/campaigns/${c.id}`}>{c.name}</Link> },
        { key: 'status', header: t('common.status'), cell: (c) => <Badge kind={campaignKind(c.status)}>{t(`campaignStatus.${c.status}`, { defaultValue: c.status })}</Badge> },
        ...(!session.tenantScope ? [{ key: 'tenant', header: t('common.tenant'), cell: (c: Campaign) => tenants.name(c.tenantId) }] : []),
        { key: 'scheduled', header: t('campaigns.scheduledAt'), cell: (c) => (c.scheduledAt ? formatDateTime(c.scheduledAt) : t('campaigns.onApproval')) },
        { key: 'progress', header: t('campaigns.progress'), className: 'num', cell: (c) => `${formatNumber(c.progress.sent)} / ${formatNumber(c.progress.total)}` },
        { key: 'author', header: t('campaigns.createdBy'), cell: (c) => c.createdBy },
        { key: 'approver', header: t('campaigns.approvedBy'), cell: (c) => c.approvedBy ?? '—' },
      ]} />
      <PagePager page={page} pageSize={PAGE_SIZE} total={all.length} count={rows.length} />
    </Page>
  );
}
