import { useTranslation } from 'react-i18next';
import type { Clock } from '../api/operations';
import { formatDateTime, formatMinutes, formatShortDateTime } from './format';
import { Badge } from './Page';

/** Green below 50 %, amber from the first escalation (50 %), red from 80 % and at breach. */
export const clockKind = (c: Clock): 'ok' | 'warn' | 'bad' | 'info' | 'neutral' => {
  if (c.breached) return 'bad';
  if (c.state === 'stopped') return 'ok';
  if (c.state === 'paused') return 'info';
  return c.percent >= 80 ? 'bad' : c.percent >= 50 ? 'warn' : 'ok';
};

function ClockBadge({ clock }: { clock: Clock }) {
  const { t } = useTranslation();
  if (clock.breached) return <Badge kind="bad">{t('sla.breached')}</Badge>;
  if (clock.state === 'stopped') return <Badge kind="ok">{t('sla.met')}</Badge>;
  if (clock.state === 'paused') return <Badge kind="info">{t('sla.paused')}</Badge>;
  return <Badge kind={clockKind(clock)}>{t('sla.running')}</Badge>;
}

/**
 * One SLA clock (response or resolution) at a glance: its state, how far it has run against its
 * target, when it is due, paused time, and the breach flag. `compact` fits a table cell.
 */
export function SlaClock({ clock, label, compact, showLabel }: { clock: Clock; label: string; compact?: boolean; showLabel?: boolean }) {
  const { t } = useTranslation();
  const pct = Math.min(100, Math.max(0, clock.percent));
  const kind = clockKind(clock);
  const bar = (
    <div className={`clock-bar clock-${kind}`} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(clock.percent)}
      aria-valuetext={t('sla.valueText', { percent: Math.round(clock.percent), elapsed: formatMinutes(clock.elapsedMinutes), target: formatMinutes(clock.targetMinutes) })}>
      <div className="clock-fill" style={{ width: `${pct}%` }} />
    </div>
  );
  const at = compact ? formatShortDateTime : formatDateTime;
  const due = clock.state === 'stopped'
    ? t('sla.metAt', { at: at(clock.metAt) })
    : clock.state === 'paused' ? t('sla.dueIfResumed', { at: at(clock.dueAt) }) : t('sla.dueAt', { at: at(clock.dueAt) });
  if (compact) {
    return (
      <div className="clock clock-compact" data-testid="sla-clock" data-state={clock.state} data-breached={clock.breached ? 'true' : 'false'}>
        <div className="clock-line"><span>{showLabel ? <span className="clock-label">{label}</span> : null}<ClockBadge clock={clock} /></span> <span className="clock-pct">{Math.round(clock.percent)}%</span></div>
        {bar}
        <div className="clock-due small" title={formatDateTime(clock.state === 'stopped' ? clock.metAt : clock.dueAt)}>{due}</div>
      </div>
    );
  }
  return (
    <div className="clock" data-testid="sla-clock" data-state={clock.state} data-breached={clock.breached ? 'true' : 'false'}>
      <div className="clock-head"><strong>{label}</strong> <ClockBadge clock={clock} /></div>
      {bar}
      <dl className="facts clock-facts">
        <div><dt>{t('sla.target')}</dt><dd>{formatMinutes(clock.targetMinutes)}</dd></div>
        <div><dt>{t('sla.elapsed')}</dt><dd>{t('sla.elapsedOf', { elapsed: formatMinutes(clock.elapsedMinutes), percent: Math.round(clock.percent) })}</dd></div>
        <div><dt>{t('sla.pausedFor')}</dt><dd>{clock.pausedMinutes > 0 ? formatMinutes(clock.pausedMinutes) : '—'}</dd></div>
        <div><dt>{clock.state === 'stopped' ? t('sla.metLabel') : t('sla.dueLabel')}</dt><dd>{clock.state === 'stopped' ? formatDateTime(clock.metAt) : formatDateTime(clock.dueAt)}</dd></div>
      </dl>
    </div>
  );
}
