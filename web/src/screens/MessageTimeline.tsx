import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import type { DeliveryEvent } from '../api/types';
import { formatDateTime } from '../ui/format';
import { ErrorBox } from '../ui/Form';
import { Badge, Card, Page } from '../ui/Page';
import { Table } from '../ui/Table';
import { useApi } from '../ui/useApi';
import { outcomeKind, replyText } from './DeliveryLog';

interface RecipientState {
  id: string;
  recipient: string;
  lane: string;
  state: string;
  attempts: number;
  nextAttemptAt: number | null;
  site: string | null;
  lastReplyCode: number | null;
  lastText: string | null;
}

/** One message: each recipient's state now, and every attempt in order. */
export default function MessageTimeline() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const message = useApi<{ id: string; recipients: RecipientState[] }>(`/messages/${encodeURIComponent(id)}`);
  const events = useApi<{ items: DeliveryEvent[] }>('/delivery/events', { messageId: id, limit: 1000 });
  const timeline = [...(events.data?.items ?? [])].reverse();
  return (
    <Page title={t('timeline.title')} subtitle={<><code>{id}</code> · <Link to="/delivery-log">{t('timeline.back')}</Link></>}>
      <ErrorBox error={message.error ?? events.error} />
      <Card title={t('timeline.recipients')}>
        <Table<RecipientState> rows={message.data?.recipients} loading={message.loading} rowKey={(r) => r.id} columns={[
          { key: 'recipient', header: t('deliveryLog.recipient'), cell: (r) => r.recipient },
          { key: 'state', header: t('common.status'), cell: (r) => <Badge kind={r.state === 'queued' ? 'info' : outcomeKind(r.state)}>{t(`states.${r.state}`, { defaultValue: r.state })}</Badge> },
          { key: 'lane', header: t('timeline.lane'), cell: (r) => t(`lanes.${r.lane}`, { defaultValue: r.lane }) },
          { key: 'attempts', header: t('timeline.attempts'), className: 'num', cell: (r) => r.attempts },
          { key: 'next', header: t('timeline.nextAttempt'), cell: (r) => formatDateTime(r.nextAttemptAt) },
          { key: 'last', header: t('timeline.lastReply'), className: 'wide', cell: (r) => [r.lastReplyCode, r.lastText].filter(Boolean).join(' ') || '—' },
        ]} />
      </Card>
      <Card title={t('timeline.events')}>
        <ol className="timeline" data-testid="timeline">
          {timeline.map((e) => (
            <li key={e.id} className={`timeline-item timeline-${outcomeKind(e.outcome)}`}>
              <div className="timeline-time">{formatDateTime(e.at)}</div>
              <div className="timeline-body">
                <Badge kind={outcomeKind(e.outcome)}>{t(`outcomes.${e.outcome}`, { defaultValue: e.outcome })}</Badge>{' '}
                <strong>{e.recipient}</strong> · {t('timeline.attemptN', { n: e.attempt })}{e.mxHost ? ` · ${e.mxHost}` : ''}{e.sourceIp ? ` · ${t('timeline.from', { ip: e.sourceIp })}` : ''}
                <div className="reply">{replyText(e) || '—'}</div>
              </div>
            </li>
          ))}
          {!events.loading && !timeline.length ? <li className="muted">{t('timeline.noEvents')}</li> : null}
        </ol>
      </Card>
    </Page>
  );
}
