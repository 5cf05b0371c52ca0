import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api } from '../api/client';
import { useSession } from '../app/session';
import { formatDateTime, formatNumber } from '../ui/format';
import { ErrorBox, Notice, useAction } from '../ui/Form';
import { Badge, Card, Page, Progress } from '../ui/Page';
import { useTenants } from '../ui/TenantPicker';
import { useApi } from '../ui/useApi';
import { campaignKind } from './Campaigns';
import type { Campaign } from './Campaigns';

const PROGRESS_COUNTS = ['queued', 'delivered', 'deferred', 'bounced', 'skipped', 'opened', 'clicked', 'unsubscribed'] as const;

type Verb = 'submit' | 'approve' | 'reject' | 'pause' | 'resume' | 'cancel';

/** Which actions a campaign in a status allows (the service's transitions). */
const ALLOWED: Record<Verb, string[]> = {
  submit: ['draft'], approve: ['pending_approval'], reject: ['pending_approval'],
  pause: ['approved', 'running'], resume: ['paused'], cancel: ['draft', 'pending_approval', 'approved', 'running', 'paused'],
};

export default function CampaignDetail() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const session = useSession();
  const tenants = useTenants();
  const campaign = useApi<Campaign>(`/campaigns/${id}`, undefined, { pollMs: 2000 });
  const act = useAction(async (verb: Verb) => {
    if (verb === 'cancel' && !window.confirm(t('campaigns.confirmCancel'))) return;
    await api.post(`/campaigns/${id}/${verb}`);
    campaign.reload();
  });
  const c = campaign.data;
  const isAuthor = !!c && c.createdBy === session.user?.username;
  const visible = (verb: Verb) => {
    if (!c || !ALLOWED[verb].includes(c.status)) return false;
    return verb === 'approve' || verb === 'reject' ? session.can('campaigns.approve') : session.can('campaigns.write');
  };
  const button = (verb: Verb, kind = 'btn') => (visible(verb) ? (
    <button key={verb} className={kind} disabled={act.busy || (verb === 'approve' && isAuthor)} onClick={() => void act.run(verb)} title={verb === 'approve' && isAuthor ? t('campaigns.fourEyes') : undefined}>{t(`campaigns.actions.${verb}`)}</button>
  ) : null);
  const p = c?.progress;

  return (
    <Page title={c ? c.name : t('campaigns.title')} subtitle={<Link to="/campaigns">{t('campaigns.back')}</Link>}
      actions={c ? <>{button('submit', 'btn btn-primary')}{button('approve', 'btn btn-primary')}{button('reject')}{button('pause', 'btn btn-warn')}{button('resume')}{button('cancel', 'btn btn-danger')}</> : null}>
      <ErrorBox error={campaign.error ?? act.error} />
      {c && c.status === 'pending_approval' && isAuthor ? <Notice kind="warning">{t('campaigns.awaitingOther')}</Notice> : null}
      {c ? (
        <div className="grid-2">
          <Card title={t('campaigns.details')}>
            <dl className="facts">
              <div><dt>{t('common.status')}</dt><dd><Badge kind={campaignKind(c.status)}><span data-testid="campaign-status">{t(`campaignStatus.${c.status}`, { defaultValue: c.status })}</span></Badge></dd></div>
              {!session.tenantScope ? <div><dt>{t('common.tenant')}</dt><dd>{tenants.name(c.tenantId)}</dd></div> : null}
              <div><dt>{t('campaigns.from')}</dt><dd>{c.from}</dd></div>
              <div><dt>{t('campaigns.scheduledAt')}</dt><dd>{c.scheduledAt ? formatDateTime(c.scheduledAt) : t('campaigns.onApproval')}</dd></div>
              <div><dt>{t('campaigns.createdBy')}</dt><dd>{c.createdBy}</dd></div>
              <div><dt>{t('campaigns.approvedBy')}</dt><dd>{c.approvedBy ? `${c.approvedBy} · ${formatDateTime(c.approvedAt)}` : '—'}</dd></div>
              <div><dt>{t('campaigns.started')}</dt><dd>{formatDateTime(c.startedAt)}</dd></div>
              <div><dt>{t('campaigns.finished')}</dt><dd>{formatDateTime(c.finishedAt)}</dd></div>
              {c.note ? <div><dt>{t('campaigns.note')}</dt><dd>{c.note}</dd></div> : null}
            </dl>
          </Card>
          <Card title={t('campaigns.progress')}>
            {p ? (
              <>
                <Progress value={p.sent} max={Math.max(p.total, 1)} label={t('campaigns.progress')} />
                <p className="muted">{t('campaigns.progressLine', { sent: formatNumber(p.sent), total: formatNumber(p.total) })}</p>
                <dl className="facts facts-compact">
                  {PROGRESS_COUNTS.map((k) => (
                    <div key={k}><dt>{t(`campaigns.counts.${k}`)}</dt><dd>{formatNumber(p[k])}</dd></div>
                  ))}
                </dl>
              </>
            ) : null}
          </Card>
        </div>
      ) : null}
    </Page>
  );
}
