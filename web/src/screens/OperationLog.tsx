import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import type { OperationEntry } from '../api/types';
import { useSession } from '../app/session';
import { formatDateTime, localInputToIso } from '../ui/format';
import { ErrorBox, Notice, SelectField, TextField, useAction } from '../ui/Form';
import { Page } from '../ui/Page';
import { CursorPager, Table } from '../ui/Table';
import { useApi } from '../ui/useApi';
import { useUrlState } from '../ui/useUrlState';

/** 选择操作类型: the operation families, as prefixes the API filters on. */
const TYPES = ['user.', 'tenant.', 'account.', 'apikey.', 'domain.', 'template.', 'campaign.', 'list.', 'subscriber.', 'import.', 'suppression.', 'delivery.', 'message.'] as const;

interface ChainResult {
  ok: boolean;
  checked: number;
  firstBroken?: { id: number; at: number; reason: string };
}

/** 操作日志: date, type, object, operator and IP, filterable, with the hash chain's verdict. */
export default function OperationLog() {
  const { t } = useTranslation();
  const session = useSession();
  const { values, params, set } = useUrlState(['operation', 'operator', 'from', 'to'] as const);
  const { data, error, loading } = useApi<{ items: OperationEntry[]; nextBefore: number | null }>('/operation-log', {
    operation: values.operation || undefined, operator: values.operator || undefined, from: localInputToIso(values.from), to: localInputToIso(values.to),
    before: params.get('cursor') ?? undefined, limit: 50,
  });
  const [chain, setChain] = useState<ChainResult | null>(null);
  const verify = useAction(async () => setChain(await api.get<ChainResult>('/operation-log/verify')));
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    set({ operation: String(f.get('operation') ?? ''), operator: String(f.get('operator') ?? '').trim(), from: String(f.get('from') ?? ''), to: String(f.get('to') ?? '') });
  };
  return (
    <Page title={t('oplog.title')} subtitle={t('oplog.subtitle')}
      actions={session.can('oplog.verify') ? <button className="btn" onClick={() => void verify.run()} disabled={verify.busy}>{t('oplog.verify')}</button> : null}>
      {chain ? (
        chain.ok
          ? <Notice kind="success"><span data-testid="chain-ok">{t('oplog.chainOk', { count: chain.checked, n: chain.checked })}</span></Notice>
          : <Notice kind="error">{t('oplog.chainBroken', { id: chain.firstBroken?.id ?? '?', reason: chain.firstBroken?.reason ?? '' })}</Notice>
      ) : null}
      <ErrorBox error={verify.error} />
      <form className="filters" onSubmit={submit} key={params.toString()}>
        <SelectField label={t('oplog.type')} name="operation" defaultValue={values.operation}>
          <option value="">{t('common.all')}</option>
          {TYPES.map((x) => <option key={x} value={x}>{t(`oplog.types.${x.slice(0, -1)}`)}</option>)}
        </SelectField>
        <TextField label={t('oplog.operator')} name="operator" type="search" defaultValue={values.operator} />
        <TextField label={t('common.from')} name="from" type="datetime-local" defaultValue={values.from} />
        <TextField label={t('common.to')} name="to" type="datetime-local" defaultValue={values.to} />
        <div className="form-actions">
          <button className="btn btn-primary">{t('common.filter')}</button>
          <button className="btn" type="button" onClick={() => set({ operation: null, operator: null, from: null, to: null })}>{t('common.reset')}</button>
        </div>
      </form>
      <ErrorBox error={error} />
      <Table<OperationEntry> rows={data?.items} loading={loading} rowKey={(e) => e.id} columns={[
        { key: 'at', header: t('oplog.date'), className: 'nowrap', cell: (e) => formatDateTime(e.at) },
        { key: 'op', header: t('oplog.type'), cell: (e) => <code>{e.operation}</code> },
        { key: 'object', header: t('oplog.object'), className: 'wide', cell: (e) => e.description },
        { key: 'operator', header: t('oplog.operator'), cell: (e) => e.operator },
        { key: 'ip', header: t('oplog.ip'), cell: (e) => e.clientIp },
      ]} />
      <CursorPager next={data?.nextBefore} />
    </Page>
  );
}
