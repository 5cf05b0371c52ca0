import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, withQuery } from '../api/client';
import { useSession } from '../app/session';
import { formatDateTime, formatNumber } from '../ui/format';
import { ErrorBox, Notice, SelectField, TextField, useAction } from '../ui/Form';
import { Badge, Card, Page } from '../ui/Page';
import { CursorPager, Table } from '../ui/Table';
import { useApi } from '../ui/useApi';
import { useUrlState } from '../ui/useUrlState';
import { ImportPanel } from './ImportPanel';
import type { ListView } from './Lists';

interface Member {
  id: number;
  email: string;
  name: string | null;
  status: string;
  attributes: Record<string, unknown>;
  createdAt: number;
}

const STATUSES = ['subscribed', 'unconfirmed', 'unsubscribed', 'bounced', 'complained'] as const;

export default function ListDetail() {
  const { t } = useTranslation();
  const { tenantId = '', listId = '' } = useParams();
  const session = useSession();
  const { values, params, set } = useUrlState(['status'] as const);
  const list = useApi<ListView>(`/tenants/${tenantId}/lists/${listId}`);
  const members = useApi<{ items: Member[]; nextAfter: number | null }>(`/tenants/${tenantId}/lists/${listId}/members`, { status: values.status || undefined, after: params.get('cursor') ?? undefined, limit: 25 });
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [added, setAdded] = useState<string | null>(null);
  const subscribe = useAction(async () => {
    const r = await api.post<{ status: string }>(`/tenants/${tenantId}/lists/${listId}/subscribe`, { email: email.trim(), ...(name.trim() ? { name: name.trim() } : {}) });
    setAdded(t('lists.subscribed', { email: email.trim(), status: t(`memberStatus.${r.status}`, { defaultValue: r.status }) }));
    setEmail('');
    setName('');
    members.reload();
    list.reload();
  });
  const unsubscribe = useAction(async (address: string) => {
    if (!window.confirm(t('lists.confirmUnsubscribe', { email: address }))) return;
    await api.post(`/tenants/${tenantId}/lists/${listId}/unsubscribe`, { email: address });
    members.reload();
    list.reload();
  });
  const l = list.data;
  const writer = session.can('lists.write');
  const exportHref = (format: 'csv' | 'xlsx') => withQuery(`/api/v1/tenants/${tenantId}/lists/${listId}/export`, { format, status: values.status || undefined });

  return (
    <Page title={l ? l.name : t('lists.title')} subtitle={<Link to={`/lists?tenantId=${tenantId}`}>{t('lists.back')}</Link>}
      actions={<><a className="btn" href={exportHref('csv')} download>{t('lists.exportCsv')}</a><a className="btn" href={exportHref('xlsx')} download>{t('lists.exportXlsx')}</a></>}>
      <ErrorBox error={list.error} />
      {l ? (
        <div className="tiles">
          {STATUSES.map((s) => (
            <div className="tile" key={s}><div className="tile-label">{t(`memberStatus.${s}`)}</div><div className="tile-value">{formatNumber(l.counts[s] ?? 0)}</div></div>
          ))}
        </div>
      ) : null}
      {writer ? (
        <div className="grid-2">
          <Card title={t('lists.addSubscriber')}>
            <form className="form-row" onSubmit={(e: FormEvent) => { e.preventDefault(); setAdded(null); void subscribe.run(); }}>
              <TextField label={t('lists.email')} name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} error={subscribe.error} required />
              <TextField label={t('lists.subscriberName')} name="name" value={name} onChange={(e) => setName(e.target.value)} error={subscribe.error} />
              <div className="form-actions"><button className="btn btn-primary" disabled={subscribe.busy}>{t('lists.subscribe')}</button></div>
            </form>
            {added ? <Notice kind="success">{added}</Notice> : null}
            <ErrorBox error={subscribe.error} />
          </Card>
          <ImportPanel tenantId={tenantId} listId={listId} onDone={() => { members.reload(); list.reload(); }} />
        </div>
      ) : null}
      <Card title={t('lists.members')}>
        <div className="filters">
          <SelectField label={t('common.status')} name="status" value={values.status} onChange={(e) => set({ status: e.target.value })}>
            <option value="">{t('common.all')}</option>
            {STATUSES.map((s) => <option key={s} value={s}>{t(`memberStatus.${s}`)}</option>)}
          </SelectField>
        </div>
        <ErrorBox error={members.error ?? unsubscribe.error} />
        <Table<Member> rows={members.data?.items} loading={members.loading} rowKey={(m) => m.id} columns={[
          { key: 'email', header: t('lists.email'), cell: (m) => m.email },
          { key: 'name', header: t('lists.subscriberName'), cell: (m) => m.name ?? '—' },
          { key: 'status', header: t('common.status'), cell: (m) => <Badge kind={m.status === 'subscribed' ? 'ok' : m.status === 'unconfirmed' ? 'info' : 'warn'}>{t(`memberStatus.${m.status}`, { defaultValue: m.status })}</Badge> },
          { key: 'attrs', header: t('lists.attributes'), className: 'wide', cell: (m) => Object.entries(m.attributes).map(([k, v]) => `${k}=${String(v)}`).join(', ') || '—' },
          { key: 'created', header: t('common.createdAt'), cell: (m) => formatDateTime(m.createdAt) },
          ...(writer ? [{ key: 'actions', header: t('common.actions'), cell: (m: Member) => (m.status === 'subscribed' || m.status === 'unconfirmed' ? <button className="btn btn-small" onClick={() => void unsubscribe.run(m.email)}>{t('lists.unsubscribe')}</button> : null) }] : []),
        ]} />
        <CursorPager next={members.data?.nextAfter} />
      </Card>
    </Page>
  );
}
