import { useTranslation } from 'react-i18next';
import type { Ticket } from '../../api/operations';
import { formatDateTime, formatMinutes, formatShortDateTime } from '../../ui/format';
import { Badge } from '../../ui/Page';

/**
 * The fault-handling report's own clock: due a number of working days after resolution,
 * stopped when it is handed over.
 */
export function ReportDue({ report, compact }: { report: Ticket['faultReport']; compact?: boolean }) {
  const { t } = useTranslation();
  if (!report.dueAt) return <span className="muted small">{compact ? '—' : t('faultReport.notDueYet')}</span>;
  const due = Date.parse(report.dueAt);
  const at = compact ? formatShortDateTime : formatDateTime;
  let badge;
  let line;
  if (report.submittedAt) {
    badge = <Badge kind={report.overdue ? 'warn' : 'ok'}>{report.overdue ? t('faultReport.submittedLate') : t('faultReport.submitted')}</Badge>;
    line = t('faultReport.submittedAt', { at: at(report.submittedAt) });
  } else if (report.overdue) {
    badge = <Badge kind="bad">{t('faultReport.overdue')}</Badge>;
    line = t('faultReport.overdueBy', { span: formatMinutes((Date.now() - due) / 60_000), at: at(report.dueAt) });
  } else {
    badge = <Badge kind="info">{t('faultReport.pending')}</Badge>;
    line = t('faultReport.dueIn', { span: formatMinutes((due - Date.now()) / 60_000), at: at(report.dueAt) });
  }
  return (
    <div className={compact ? 'clock clock-compact' : 'clock'} data-testid="report-due" data-overdue={report.overdue ? 'true' : 'false'}>
      <div>{badge}</div>
      <div className={compact ? 'small muted' : ''}>{line}</div>
    </div>
  );
}
