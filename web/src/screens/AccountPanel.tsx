import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { Account, ApiKey, Items } from '../api/types';
import { useSession } from '../app/session';
import { formatDateTime } from '../ui/format';
import { ErrorBox, Notice, SelectField, TextAreaField, TextField, useAction } from '../ui/Form';
import { Card, CopyButton } from '../ui/Page';
import { Table } from '../ui/Table';
import { useApi } from '../ui/useApi';

export const splitCidrs = (text: string) => text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);

/** One account's settings: quota and sending type, hold, allowed networks and API keys. */
export function AccountPanel({ account, onChanged }: { account: Account; onChanged: () => void }) {
  const { t } = useTranslation();
  const session = useSession();
  const admin = session.can('accounts.write');
  const [sendingType, setSendingType] = useState(account.sendingType);
  const [quota, setQuota] = useState(account.quota === null ? '' : String(account.quota));
  const [allowIps, setAllowIps] = useState(account.allowIps.join('\n'));
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    await api.patch(`/accounts/${account.id}`, { sendingType, quota: quota.trim() === '' ? null : Number(quota), allowIps: splitCidrs(allowIps) });
    setSaved(true);
    onChanged();
  });
  const hold = useAction(async (status: 'held' | 'active') => {
    await api.patch(`/accounts/${account.id}`, { status });
    onChanged();
  });

  const keys = useApi<Items<ApiKey>>(`/accounts/${account.id}/api-keys`);
  const [keyName, setKeyName] = useState('');
  const [newKey, setNewKey] = useState<string | null>(null);
  const createKey = useAction(async () => {
    const created = await api.post<ApiKey>(`/accounts/${account.id}/api-keys`, keyName.trim() ? { name: keyName.trim() } : {});
    setNewKey(created.key ?? null);
    setKeyName('');
    keys.reload();
  });
  const revoke = useAction(async (id: string) => {
    if (!window.confirm(t('apikeys.confirmRevoke'))) return;
    await api.del(`/api-keys/${id}`);
    keys.reload();
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    void save.run();
  };

  return (
    <Card title={t('accounts.settingsOf', { name: account.name })} className="account-panel"
      actions={admin ? (account.status === 'held'
        ? <button className="btn" onClick={() => void hold.run('active')}>{t('accounts.release')}</button>
        : <button className="btn btn-warn" onClick={() => void hold.run('held')}>{t('accounts.hold')}</button>) : null}>
      <ErrorBox error={hold.error} />
      <form onSubmit={submit} className="form-grid">
        <SelectField label={t('accounts.sendingType')} name="sendingType" value={sendingType} onChange={(e) => setSendingType(e.target.value)} error={save.error} disabled={!admin}>
          <option value="total">{t('accounts.types.total')}</option>
          <option value="daily">{t('accounts.types.daily')}</option>
          <option value="monthly">{t('accounts.types.monthly')}</option>
        </SelectField>
        <TextField label={t('accounts.quota')} name="quota" type="number" min={0} value={quota} onChange={(e) => setQuota(e.target.value)} error={save.error} hint={t('accounts.quotaHint')} disabled={!admin} />
        <TextAreaField label={t('accounts.allowIps')} name="allowIps" rows={3} value={allowIps} onChange={(e) => setAllowIps(e.target.value)} error={save.error} hint={t('accounts.allowIpsHint')} disabled={!admin} />
        {admin ? <div className="form-actions"><button className="btn btn-primary" disabled={save.busy}>{t('common.save')}</button></div> : null}
      </form>
      {saved ? <Notice kind="success">{t('common.saved')}</Notice> : null}
      <ErrorBox error={save.error} />

      <h3>{t('apikeys.title')}</h3>
      {newKey ? (
        <div className="alert alert-warning secret-once" role="status">
          <strong>{t('apikeys.shownOnce')}</strong>
          <div className="copy-line"><code data-testid="new-api-key">{newKey}</code><CopyButton text={newKey} /></div>
          <button className="btn btn-small" onClick={() => setNewKey(null)}>{t('apikeys.stored')}</button>
        </div>
      ) : null}
      <Table<ApiKey> rows={keys.data?.items} loading={keys.loading} rowKey={(k) => k.id} columns={[
        { key: 'name', header: t('apikeys.name'), cell: (k) => k.name || '—' },
        { key: 'prefix', header: t('apikeys.prefix'), cell: (k) => <code>{`fo_${k.prefix}_…`}</code> },
        { key: 'created', header: t('common.createdAt'), cell: (k) => formatDateTime(k.createdAt) },
        { key: 'used', header: t('apikeys.lastUsed'), cell: (k) => formatDateTime(k.lastUsedAt ?? null) },
        { key: 'state', header: t('common.status'), cell: (k) => (k.revokedAt ? t('apikeys.revoked', { at: formatDateTime(k.revokedAt) }) : t('status.active')) },
        ...(session.can('apikeys.write') ? [{ key: 'actions', header: t('common.actions'), cell: (k: ApiKey) => (k.revokedAt ? null : <button className="btn btn-small btn-danger" onClick={() => void revoke.run(k.id)}>{t('apikeys.revoke')}</button>) }] : []),
      ]} />
      <ErrorBox error={revoke.error} />
      {session.can('apikeys.write') ? (
        <form className="form-row" onSubmit={(e) => { e.preventDefault(); void createKey.run(); }}>
          <TextField label={t('apikeys.name')} name="name" value={keyName} onChange={(e) => setKeyName(e.target.value)} error={createKey.error} />
          <div className="form-actions"><button className="btn btn-primary" disabled={createKey.busy}>{t('apikeys.create')}</button></div>
        </form>
      ) : null}
      <ErrorBox error={createKey.error} />
    </Card>
  );
}
