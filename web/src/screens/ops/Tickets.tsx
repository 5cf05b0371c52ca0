import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api } from '../../api/client';
import { PRIORITIES, TICKET_STATUSES } from '../../api/operations';
import type { Ticket } from '../../api/operations';
import { useSession } from '../../app/session';
import { formatDateTime, localInputToIso } from '../../ui/format';
import { ErrorBox, SelectField, TextAreaField, TextField, useAction } from '../../ui/Form';
import { Card, Page } from '../../ui/Page';
import { SlaClock } from '../../ui/SlaClock';
import { CursorPager, Table } from '../../ui/Table';
import { TenantPicker, useTenants } from '../../ui/TenantPicker';
import { useApi } from '../../ui/useApi';
import { useUrlState } from '../../ui/useUrlState';
import { PriorityBadge, TicketStatusBadge } from './common';
import { ReportDue } from './ReportDue';
import { usePeople } from './people';

function CreateTicket({ onDone }: { onDone: (t: Ticket) => void }) {
  const { t } = useTranslation();
  const [f, setF] = useState({ priority: 'P3', title: '', description: '', tenantId: '', contactName: '', contactEmail: '', contactPhone: '', place: '', occurredAt: '' });
  const action = useAction(async () => api.post<Ticket>('/tickets', {
    priority: f.priority, title: f.title.trim(),
    ...(f.description.trim() ? { description: f.description } : {}),
    ...(f.tenantId ? { tenantId: f.tenantId } : {}),
    ...(f.contactName.trim() ? { contactName: f.contactName.trim() } : {}),
    ...(f.contactEmail.trim() ? { contactEmail: f.contactEmail.trim() } : {}),
    ...(f.contactPhone.trim() ? { contactPhone: f.contactPhone.trim() } : {}),
    ...(f.place.trim() ? { place: f.place.trim() } : {}),
    ...(localInputToIso(f.occurredAt) ? { occurredAt: localInputToIso(f.occurredAt) } : {}),
  }));
  const on = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await action.run();
    if (created) onDone(created);
  };
  return (
    <Card title={t('tickets.create')}>
      <form className="form-grid" onSubmit={submit} noValidate>
        <SelectField label={t('tickets.priority')} name="priority" value={f.priority} onChange={on('priority')} error={action.error} hint={t('tickets.priorityHint')}>
          {PRIORITIES.map((p) => <option key={p} value={p}>{p} · {t(`priorities.${p}`)}</option>)}
        </SelectField>
        <TextField label={t('tickets.titleField')} name="title" value={f.title} onChange={on('title')} error={action.error} required maxLength={300} />
        <TenantPicker value={f.tenantId} onChange={(v) => setF({ ...f, tenantId: v })} error={action.error} allowAll />
        <TextField label={t('tickets.occurredAt')} name="occurredAt" type="datetime-local" value={f.occurredAt} onChange={on('occurredAt')} error={action.error} />
        <TextField label={t('tickets.contactName')} name="contactName" value={f.contactName} onChange={on('contactName')} error={action.error} />
        <TextField label={t('tickets.contactEmail')} name="contactEmail" type="email" value={f.contactEmail} onChange={on('contactEmail')} error={action.error} hint={t('tickets.contactEmailHint')} />
        <TextField label={t('tickets.contactPhone')} name="contactPhone" value={f.contactPhone} onChange={on('contactPhone')} error={action.error} />
        <TextField label={t('tickets.place')} name="place" value={f.place} onChange={on('place')} error={action.error} />
        <div className="form-wide">
          <TextAreaField label={t('tickets.description')} name="description" rows={3} value={f.description} onChange={on('description')} error={action.error} />
        </div>
        <div className="form-actions"><button className="btn btn-primary" disabled={action.busy}>{t('tickets.open')}</button></div>
      </form>
      <ErrorBox error={action.error} />
    </Card>
  );
}

/** Fault tickets with their SLA clocks at a glance: response and resolution, paused, breached. */
export default function Tickets() {
  const { t } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const tenants = useTenants();
  const people = usePeople();
  const { values, params, set } = useUrlState(['status', 'priority', 'open', 'assigneeId', 'tenantId'] as const);
  const [creating, setCreating] = useState(false);
  const list = useApi<{ items: Ticket[]; nextBefore: string | null }>('/tickets', {
    status: values.status || undefined, priority: values.priority || undefined, open: values.open === 'true' ? true : undefined,
    assigneeId: values.assigneeId || undefined, tenantId: values.tenantId || undefined, before: params.get('before') ?? undefined, limit: 25,
  }, { pollMs: 30_000 });

  return (
    <Page title={t('tickets.title')} subtitle={t('tickets.subtitle')}
      actions={session.can('tickets.open') ? <button className="btn btn-primary" onClick={() => setCreating((v) => !v)}>{t('tickets.create')}</button> : null}>
      {creating ? <CreateTicket onDone={(x) => navigate(`/ops/tickets/${x.id}`)} /> : null}
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <SelectField label={t('common.status')} name="status" value={values.open === 'true' ? 'open-any' : values.status}
          onChange={(e) => (e.target.value === 'open-any' ? set({ open: 'true', status: null }) : set({ status: e.target.value, open: null }))}>
          <option value="">{t('common.all')}</option>
          <option value="open-any">{t('tickets.allOpen')}</option>
          {TICKET_STATUSES.map((s) => <option key={s} value={s}>{t(`ticketStatus.${s}`)}</option>)}
        </SelectField>
        <SelectField label={t('tickets.priority')} name="priority" value={values.priority} onChange={(e) => set({ priority: e.target.value })}>
          <option value="">{t('common.all')}</option>
          {PRIORITIES.map((p) => <option key={p} value={p}>{p} · {t(`priorities.${p}`)}</option>)}
        </SelectField>
        {session.user && (session.user.role === 'support' || session.user.role === 'administrator') ? (
          <SelectField label={t('tickets.assignee')} name="assigneeId" value={values.assigneeId} onChange={(e) => set({ assigneeId: e.target.value })}>
            <option value="">{t('common.all')}</option>
            <option value={session.user.id}>{t('tickets.mine')}</option>
          </SelectField>
        ) : null}
        {!session.tenantScope ? <TenantPicker value={values.tenantId} onChange={(v) => set({ tenantId: v })} allowAll /> : null}
      </form>
      <ErrorBox error={list.error} />
      <Table<Ticket> rows={list.data?.items} loading={list.loading} rowKey={(r) => r.id} columns={[
        { key: 'priority', header: t('tickets.priority'), cell: (r) => <PriorityBadge priority={r.priority} /> },
        { key: 'title', header: t('tickets.titleField'), className: 'wide', cell: (r) => (
          <div><Link to={`/ops/tickets/${r.id}`}>{r.title}</Link><div className="muted small">{formatDateTime(r.createdAt)}{!session.tenantScope && r.tenantId ? ` · ${tenants.name(r.tenantId)}` : ''}</div></div>
        ) },
        { key: 'status', header: t('common.status'), cell: (r) => <TicketStatusBadge status={r.status} /> },
        { key: 'assignee', header: t('tickets.assignee'), cell: (r) => people.name(r.assigneeId) ?? <span className="muted">{t('tickets.unassigned')}</span> },
        { key: 'response', header: t('sla.response'), cell: (r) => <SlaClock compact clock={r.sla.response} label={t('sla.response')} /> },
        { key: 'resolution', header: t('sla.resolution'), cell: (r) => <SlaClock compact clock={r.sla.resolution} label={t('sla.resolution')} /> },
        { key: 'report', header: t('tickets.faultReport'), cell: (r) => <ReportDue report={r.faultReport} compact /> },
      ]} />
      <CursorPager next={list.data?.nextBefore} param="before" />
    </Page>
  );
}
