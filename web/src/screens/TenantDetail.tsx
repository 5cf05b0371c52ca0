import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { api } from '../api/client';
import type { Account, Items, Tenant } from '../api/types';
import { useSession } from '../app/session';
import { formatNumber } from '../ui/format';
import { ErrorBox, fieldError, SelectField, TextAreaField, TextField, useAction } from '../ui/Form';
import { QuotaBar, QuotaGauge } from '../ui/Gauge';
import { Badge, Card, Page } from '../ui/Page';
import { Table } from '../ui/Table';
import { useApi } from '../ui/useApi';
import { AccountPanel, splitCidrs } from './AccountPanel';
import { statusKind } from './Tenants';

function AddAccount({ tenantId, onDone }: { tenantId: string; onDone: () => void }) {
  const { t } = useTranslation();
  const [f, setF] = useState({ name: '', password: '', sendingType: 'total', quota: '', allowIps: '' });
  const action = useAction(async () => {
    await api.post(`/tenants/${tenantId}/accounts`, {
      name: f.name.trim(), ...(f.password ? { password: f.password } : {}), sendingType: f.sendingType,
      quota: f.quota.trim() === '' ? null : Number(f.quota), ...(f.allowIps.trim() ? { allowIps: splitCidrs(f.allowIps) } : {}),
    });
    setF({ name: '', password: '', sendingType: 'total', quota: '', allowIps: '' });
    onDone();
  });
  const on = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  return (
    <Card title={t('accounts.add')}>
      <form className="form-grid" onSubmit={(e: FormEvent) => { e.preventDefault(); void action.run(); }}>
        <TextField label={t('accounts.name')} name="name" value={f.name} onChange={on('name')} error={action.error} required autoComplete="off" />
        <TextField label={t('accounts.password')} name="password" type="password" value={f.password} onChange={on('password')} error={action.error} autoComplete="new-password" hint={t('accounts.passwordHint')} />
        <SelectField label={t('accounts.sendingType')} name="sendingType" value={f.sendingType} onChange={on('sendingType')} error={action.error}>
          <option value="total">{t('accounts.types.total')}</option>
          <option value="daily">{t('accounts.types.daily')}</option>
          <option value="monthly">{t('accounts.types.monthly')}</option>
        </SelectField>
        <TextField label={t('accounts.quota')} name="quota" type="number" min={0} value={f.quota} onChange={on('quota')} error={action.error} hint={t('accounts.quotaHint')} />
        <TextAreaField label={t('accounts.allowIps')} name="allowIps" rows={2} value={f.allowIps} onChange={on('allowIps')} error={action.error} hint={t('accounts.allowIpsHint')} />
        <div className="form-actions"><button className="btn btn-primary" disabled={action.busy}>{t('accounts.addButton')}</button></div>
      </form>
      <ErrorBox error={action.error} />
      <p className="muted small">{t('accounts.changePasswordReminder')}</p>
    </Card>
  );
}

/** 域帐号管理: each account with a password box, 修改 and 删除, as the bank's people know it. */
function AccountRowActions({ account, onChanged }: { account: Account; onChanged: () => void }) {
  const { t } = useTranslation();
  const session = useSession();
  const [password, setPassword] = useState('');
  const [done, setDone] = useState(false);
  const change = useAction(async () => {
    await api.put(`/accounts/${account.id}/password`, { password });
    setPassword('');
    setDone(true);
  });
  const remove = useAction(async () => {
    if (!window.confirm(t('accounts.confirmDelete', { name: account.name }))) return;
    await api.del(`/accounts/${account.id}`);
    onChanged();
  });
  return (
    <div className="row-actions">
      {session.can('accounts.password') ? (
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); setDone(false); void change.run(); }}>
          <label className="sr-only" htmlFor={`pw-${account.id}`}>{t('accounts.newPasswordFor', { name: account.name })}</label>
          <input id={`pw-${account.id}`} name="password" type="password" autoComplete="new-password" value={password} placeholder={t('accounts.newPassword')} onChange={(e) => setPassword(e.target.value)} aria-invalid={!!change.error} />
          <button className="btn btn-small" disabled={change.busy || !password}>{t('accounts.changePassword')}</button>
        </form>
      ) : null}
      {session.can('accounts.write') ? <button className="btn btn-small btn-danger" onClick={() => void remove.run()}>{t('common.delete')}</button> : null}
      {done ? <span className="ok-text" role="status">{t('accounts.passwordChanged')}</span> : null}
      {change.error ? <span className="field-error" role="alert">{fieldError(change.error, 'password') ?? (change.error as Error).message}</span> : null}
      <ErrorBox error={remove.error} />
    </div>
  );
}

export default function TenantDetail() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const tenant = useApi<Tenant>(`/tenants/${id}`);
  const accounts = useApi<Items<Account>>('/accounts', { tenantId: id });
  const [adding, setAdding] = useState(false);
  const selected = accounts.data?.items.find((a) => a.id === params.get('account'));
  const setStatus = useAction(async (status: string) => {
    await api.patch(`/tenants/${id}`, { status });
    tenant.reload();
  });
  const reload = () => {
    accounts.reload();
    tenant.reload();
  };
  const x = tenant.data;

  return (
    <Page title={x ? x.name : t('tenants.title')} subtitle={<Link to="/tenants">{t('tenants.backToList')}</Link>}
      actions={x && session.can('tenants.write') ? (
        x.status === 'active'
          ? <button className="btn btn-warn" onClick={() => void setStatus.run('suspended')}>{t('tenants.suspend')}</button>
          : <button className="btn" onClick={() => void setStatus.run('active')}>{t('tenants.activate')}</button>
      ) : null}>
      <ErrorBox error={tenant.error ?? setStatus.error} />
      {x ? (
        <div className="grid-2 tenant-summary">
          <Card title={t('tenants.info')}>
            <dl className="facts">
              <div><dt>{t('tenants.accountType')}</dt><dd>{t(`tenants.types.${x.accountType}`, { defaultValue: x.accountType })}</dd></div>
              <div><dt>{t('tenants.name')}</dt><dd>{x.name}</dd></div>
              <div><dt>{t('common.status')}</dt><dd><Badge kind={statusKind(x.status)}>{t(`status.${x.status}`, { defaultValue: x.status })}</Badge></dd></div>
              <div><dt>{t('tenants.domains')}</dt><dd>{x.domains.length ? x.domains.map((d) => <span key={d} className="chip">{d}</span>) : '—'} <Link to={`/domains?tenantId=${x.id}`}>{t('tenants.manageDomains')}</Link></dd></div>
            </dl>
          </Card>
          <Card title={t('quota.title')}>
            <QuotaGauge purchased={x.purchased} used={x.used} />
          </Card>
        </div>
      ) : null}
      <Card title={t('accounts.title')} actions={session.can('accounts.write') ? <button className="btn btn-primary" onClick={() => setAdding((v) => !v)}>{t('accounts.add')}</button> : null}>
        {adding ? <AddAccount tenantId={id} onDone={() => { setAdding(false); reload(); }} /> : null}
        <ErrorBox error={accounts.error} />
        <Table<Account> rows={accounts.data?.items} loading={accounts.loading} rowKey={(a) => a.id} columns={[
          { key: 'name', header: t('accounts.name'), cell: (a) => <button className="link" onClick={() => setParams((p) => { const n = new URLSearchParams(p); n.set('account', a.id); return n; })}>{a.name}</button> },
          { key: 'status', header: t('common.status'), cell: (a) => <Badge kind={statusKind(a.status)}>{t(`status.${a.status}`, { defaultValue: a.status })}</Badge> },
          { key: 'type', header: t('accounts.sendingType'), cell: (a) => t(`accounts.types.${a.sendingType}`, { defaultValue: a.sendingType }) },
          { key: 'quota', header: t('quota.purchased'), className: 'num', cell: (a) => (a.quota === null ? t('quota.unlimited') : formatNumber(a.quota)) },
          { key: 'used', header: t('quota.used'), className: 'num', cell: (a) => formatNumber(a.used) },
          { key: 'bar', header: t('quota.usage'), cell: (a) => <QuotaBar quota={a.quota} used={a.used} /> },
          { key: 'ips', header: t('accounts.allowIps'), cell: (a) => a.allowIps.join(', ') || '—' },
          { key: 'actions', header: t('common.actions'), cell: (a) => <AccountRowActions account={a} onChanged={reload} /> },
        ]} />
      </Card>
      {selected ? <AccountPanel key={selected.id} account={selected} onChanged={reload} /> : null}
    </Page>
  );
}
