import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Items, Role, User } from '../api/types';
import { useSession } from '../app/session';
import { formatDateTime } from '../ui/format';
import { ErrorBox, Notice, SelectField, TextField, useAction } from '../ui/Form';
import { Badge, Card, Page } from '../ui/Page';
import { CursorPager, PAGE_SIZE, Table } from '../ui/Table';
import { TenantPicker, useTenants } from '../ui/TenantPicker';
import { useApi } from '../ui/useApi';
import { useUrlState } from '../ui/useUrlState';

const ROLES: Role[] = ['administrator', 'operator', 'auditor', 'support'];

function CreateUser({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const [f, setF] = useState({ username: '', password: '', role: 'operator' as Role, tenantId: '', locale: 'zh-CN' });
  const action = useAction(async () => {
    await api.post('/users', { username: f.username.trim(), password: f.password, role: f.role, locale: f.locale, ...(f.role === 'operator' ? { tenantId: f.tenantId } : {}) });
    onDone();
  });
  const on = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  return (
    <Card title={t('users.create')}>
      <form className="form-grid" onSubmit={(e: FormEvent) => { e.preventDefault(); void action.run(); }}>
        <TextField label={t('users.username')} name="username" value={f.username} onChange={on('username')} error={action.error} required autoComplete="off" />
        <TextField label={t('users.password')} name="password" type="password" value={f.password} onChange={on('password')} error={action.error} required autoComplete="new-password" />
        <SelectField label={t('users.role')} name="role" value={f.role} onChange={on('role')} error={action.error}>
          {ROLES.map((r) => <option key={r} value={r}>{t(`roles.${r}`)}</option>)}
        </SelectField>
        {f.role === 'operator' ? <TenantPicker value={f.tenantId} onChange={(v) => setF({ ...f, tenantId: v })} error={action.error} /> : null}
        <SelectField label={t('users.locale')} name="locale" value={f.locale} onChange={on('locale')} error={action.error}>
          <option value="zh-CN">{t('languages.zh-CN')}</option>
          <option value="en">{t('languages.en')}</option>
        </SelectField>
        <div className="form-actions"><button className="btn btn-primary" disabled={action.busy}>{t('common.create')}</button></div>
      </form>
      <ErrorBox error={action.error} />
    </Card>
  );
}

function UserActions({ user, onChanged }: { user: User; onChanged: () => void }) {
  const { t } = useTranslation();
  const [password, setPassword] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const patch = useAction(async (body: Record<string, unknown>, message: string) => {
    await api.patch(`/users/${user.id}`, body);
    setDone(message);
    onChanged();
  });
  const setPw = useAction(async () => {
    await api.put(`/users/${user.id}/password`, { password });
    setPassword('');
    setDone(t('users.passwordSet'));
  });
  const resetTotp = useAction(async () => {
    if (!window.confirm(t('users.confirmResetTotp', { name: user.username }))) return;
    await api.del(`/users/${user.id}/totp`);
    setDone(t('users.totpReset'));
    onChanged();
  });
  return (
    <div className="row-actions">
      <form className="inline-form" onSubmit={(e) => { e.preventDefault(); void setPw.run(); }}>
        <label className="sr-only" htmlFor={`upw-${user.id}`}>{t('users.newPasswordFor', { name: user.username })}</label>
        <input id={`upw-${user.id}`} name="password" type="password" autoComplete="new-password" placeholder={t('users.newPassword')} value={password} onChange={(e) => setPassword(e.target.value)} />
        <button className="btn btn-small" disabled={!password || setPw.busy}>{t('users.setPassword')}</button>
      </form>
      {user.locked ? <button className="btn btn-small" onClick={() => void patch.run({ unlock: true }, t('users.unlocked'))}>{t('users.unlock')}</button> : null}
      <button className="btn btn-small" onClick={() => void patch.run({ disabled: !user.disabled }, user.disabled ? t('users.enabled') : t('users.disabledDone'))}>{user.disabled ? t('users.enable') : t('users.disable')}</button>
      {user.totpEnabled ? <button className="btn btn-small" onClick={() => void resetTotp.run()}>{t('users.resetTotp')}</button> : null}
      {done ? <span className="ok-text" role="status">{done}</span> : null}
      <ErrorBox error={patch.error ?? setPw.error ?? resetTotp.error} />
    </div>
  );
}

export default function Users() {
  const { t } = useTranslation();
  const session = useSession();
  const tenants = useTenants();
  const { values, params, set } = useUrlState(['role', 'q'] as const);
  const [creating, setCreating] = useState(false);
  // Paged on the server (keyset on the user name); the filters and the cursor are in the address.
  const list = useApi<Items<User> & { nextCursor: string | null }>('/users', { role: values.role || undefined, q: values.q || undefined, limit: PAGE_SIZE, cursor: params.get('cursor') ?? undefined });
  const admin = session.can('users.write');
  return (
    <Page title={t('users.title')} subtitle={t('users.subtitle')}
      actions={admin ? <button className="btn btn-primary" onClick={() => setCreating((v) => !v)}>{t('users.create')}</button> : null}>
      {creating ? <CreateUser onDone={() => { setCreating(false); list.reload(); }} /> : null}
      <Notice>{t('users.rolesHelp')}</Notice>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); const f = new FormData(e.currentTarget); set({ q: String(f.get('q') ?? '') }); }}>
        <TextField label={t('common.search')} name="q" defaultValue={values.q} key={`q${values.q}`} />
        <SelectField label={t('users.role')} name="role" value={values.role} onChange={(e) => set({ role: e.target.value })}>
          <option value="">{t('common.all')}</option>
          {ROLES.map((r) => <option key={r} value={r}>{t(`roles.${r}`)}</option>)}
        </SelectField>
        <div className="form-actions"><button className="btn">{t('common.filter')}</button></div>
      </form>
      <ErrorBox error={list.error} />
      <Table<User> rows={list.data?.items} loading={list.loading} rowKey={(u) => u.id} columns={[
        { key: 'username', header: t('users.username'), cell: (u) => u.username },
        { key: 'role', header: t('users.role'), cell: (u) => t(`roles.${u.role}`) },
        { key: 'tenant', header: t('common.tenant'), cell: (u) => (u.tenantId ? tenants.name(u.tenantId) : t('users.platform')) },
        { key: 'totp', header: t('users.totp'), cell: (u) => (u.totpEnabled ? <Badge kind="ok">{t('users.totpOn')}</Badge> : <Badge>{t('users.totpOff')}</Badge>) },
        { key: 'state', header: t('common.status'), cell: (u) => (u.disabled ? <Badge kind="bad">{t('users.disabled')}</Badge> : u.locked ? <Badge kind="warn">{t('users.locked')}</Badge> : <Badge kind="ok">{t('status.active')}</Badge>) },
        { key: 'created', header: t('common.createdAt'), cell: (u) => formatDateTime(u.createdAt) },
        ...(admin ? [{ key: 'actions', header: t('common.actions'), cell: (u: User) => <UserActions user={u} onChanged={list.reload} /> }] : []),
      ]} />
      <CursorPager next={list.data?.nextCursor} />
    </Page>
  );
}
