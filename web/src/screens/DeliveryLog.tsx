import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { DeliveryEvent } from '../api/types';
import { useSession } from '../app/session';
import { formatDateTime, localInputToIso } from '../ui/format';
import { ErrorBox, SelectField, TextField } from '../ui/Form';
import { Badge, Page } from '../ui/Page';
import { CursorPager, Table } from '../ui/Table';
import { TenantPicker, useTenants } from '../ui/TenantPicker';
import { useApi } from '../ui/useApi';
import { useUrlState } from '../ui/useUrlState';

export const OUTCOMES = ['delivered', 'deferred', 'failed', 'expired', 'cancelled'] as const;
export const outcomeKind = (o: string) => (o === 'delivered' ? 'ok' : o === 'deferred' ? 'warn' : o === 'cancelled' ? 'neutral' : 'bad');

export function replyText(e: Pick<DeliveryEvent, 'replyCode' | 'enhancedStatus' | 'text'>): string {
  return [e.replyCode, e.enhancedStatus, e.text].filter((x) => x !== null && x !== '').join(' ');
}

/** 投递日志: every attempt, newest first; filters and the page position live in the address. */
export default function DeliveryLog() {
  const { t } = useTranslation();
  const session = useSession();
  const tenants = useTenants();
  const { values, params, set } = useUrlState(['recipient', 'messageId', 'outcome', 'from', 'to', 'tenantId'] as const);
  const { data, error, loading } = useApi<{ items: DeliveryEvent[]; nextCursor: number | null }>('/delivery/events', {
    recipient: values.recipient || undefined, messageId: values.messageId || undefined, outcome: values.outcome || undefined,
    from: localInputToIso(values.from), to: localInputToIso(values.to), tenantId: values.tenantId || undefined, cursor: params.get('cursor') ?? undefined, limit: 50,
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    set({
      recipient: String(f.get('recipient') ?? '').trim(), messageId: String(f.get('messageId') ?? '').trim(), outcome: String(f.get('outcome') ?? ''),
      from: String(f.get('from') ?? ''), to: String(f.get('to') ?? ''), tenantId: String(f.get('tenantId') ?? values.tenantId),
    });
  };
  return (
    <Page title={t('deliveryLog.title')} subtitle={t('deliveryLog.subtitle')}>
      <form className="filters" onSubmit={submit} key={params.toString()}>
        <TextField label={t('deliveryLog.recipient')} name="recipient" type="search" defaultValue={values.recipient} />
        <TextField label={t('deliveryLog.messageId')} name="messageId" type="search" defaultValue={values.messageId} />
        <SelectField label={t('deliveryLog.outcome')} name="outcome" defaultValue={values.outcome}>
          <option value="">{t('common.all')}</option>
          {OUTCOMES.map((o) => <option key={o} value={o}>{t(`outcomes.${o}`)}</option>)}
        </SelectField>
        <TextField label={t('common.from')} name="from" type="datetime-local" defaultValue={values.from} />
        <TextField label={t('common.to')} name="to" type="datetime-local" defaultValue={values.to} />
        {!session.tenantScope ? <TenantPicker allowAll value={values.tenantId} onChange={(v) => set({ tenantId: v })} /> : null}
        <div className="form-actions">
          <button className="btn btn-primary">{t('common.search')}</button>
          <button className="btn" type="button" onClick={() => set({ recipient: null, messageId: null, outcome: null, from: null, to: null, tenantId: null })}>{t('common.reset')}</button>
        </div>
      </form>
      <ErrorBox error={error} />
      <Table<DeliveryEvent> rows={data?.items} loading={loading} rowKey={(e) => e.id} columns={[
        { key: 'at', header: t('common.time'), className: 'nowrap', cell: (e) => formatDateTime(e.at) },
        { key: 'recipient', header: t('deliveryLog.recipient'), cell: (e) => e.recipient },
        { key: 'outcome', header: t('deliveryLog.outcome'), className: 'nowrap', cell: (e) => <Badge kind={outcomeKind(e.outcome)}>{t(`outcomes.${e.outcome}`, { defaultValue: e.outcome })}</Badge> },
        { key: 'reply', header: t('deliveryLog.reply'), className: 'wide', cell: (e) => <span className="reply">{replyText(e) || '—'}</span> },
        { key: 'reason', header: t('deliveryLog.reason'), cell: (e) => (e.reason ? t(`reasons.${e.reason}`, { defaultValue: e.reason }) : '—') },
        { key: 'mx', header: t('deliveryLog.mx'), cell: (e) => e.mxHost ?? '—' },
        ...(!session.tenantScope ? [{ key: 'tenant', header: t('common.tenant'), cell: (e: DeliveryEvent) => tenants.name(e.tenantId) }] : []),
        { key: 'message', header: t('deliveryLog.message'), className: 'nowrap', cell: (e) => <Link to={`/delivery-log/messages/${e.messageId}`}>{t('deliveryLog.timeline')}</Link> },
      ]} />
      <CursorPager next={data?.nextCursor} />
    </Page>
  );
}
