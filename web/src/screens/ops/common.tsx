import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { Check, CheckStatus, Priority, TicketStatus } from '../../api/operations';
import { Badge } from '../../ui/Page';

export const checkKind = (s: string): 'ok' | 'warn' | 'bad' | 'neutral' => (s === 'ok' ? 'ok' : s === 'warning' ? 'warn' : s === 'error' ? 'bad' : 'neutral');

export const STATUS_COLOURS: Record<CheckStatus, string> = { ok: '#2f7d4f', warning: '#c48a1b', error: '#b3261e', unavailable: '#9aa3af' };

export function CheckBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return <Badge kind={checkKind(status)}>{t(`checkStatus.${status}`, { defaultValue: status })}</Badge>;
}

/** A check's name in the reader's language ("dns.spf" has its own words), with its subject. */
export function checkName(t: TFunction, c: Pick<Check, 'key' | 'subject'>): string {
  const name = t(`checks.${c.key}`, { defaultValue: c.key });
  return c.subject ? `${name} · ${c.subject}` : name;
}

/** A check's value as a person reads it: numbers and text as they are, structures compactly. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

export const priorityKind = (p: Priority): 'bad' | 'warn' | 'info' | 'neutral' => (p === 'P1' ? 'bad' : p === 'P2' ? 'warn' : p === 'P3' ? 'info' : 'neutral');

export function PriorityBadge({ priority }: { priority: Priority }) {
  const { t } = useTranslation();
  return <span title={t(`priorities.${priority}`)}><Badge kind={priorityKind(priority)}>{priority}</Badge></span>;
}

export const ticketStatusKind = (s: TicketStatus | string): 'ok' | 'warn' | 'bad' | 'info' | 'neutral' =>
  s === 'open' ? 'bad' : s === 'acknowledged' || s === 'in_progress' ? 'warn' : s === 'waiting_customer' ? 'info' : s === 'resolved' ? 'ok' : 'neutral';

export function TicketStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return <Badge kind={ticketStatusKind(status)}><span data-testid="ticket-status">{t(`ticketStatus.${status}`, { defaultValue: status })}</span></Badge>;
}

const REPORT_VARIANTS: ['html' | 'pdf', 'zh-CN' | 'en'][] = [['html', 'zh-CN'], ['pdf', 'zh-CN'], ['html', 'en'], ['pdf', 'en']];

/** The worst status among checks (unavailable only when nothing was checked). */
export function worstStatus(checks: Pick<Check, 'status'>[]): CheckStatus {
  const order: CheckStatus[] = ['error', 'warning', 'ok'];
  return order.find((s) => checks.some((x) => x.status === s)) ?? 'unavailable';
}

/** Links to a report in both formats and both languages (the API renders each). */
export function ReportLinks({ base, compact }: { base: string; compact?: boolean }) {
  const { t, i18n } = useTranslation();
  if (compact) {
    const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
    return (
      <span className="row-actions">
        <a className="link" href={`/api/v1${base}?format=html&lang=${lang}`} target="_blank" rel="noopener">{t('ops.report.html')}</a>
        <a className="link" href={`/api/v1${base}?format=pdf&lang=${lang}`} target="_blank" rel="noopener">{t('ops.report.pdf')}</a>
      </span>
    );
  }
  const link = (format: 'html' | 'pdf', lang: 'zh-CN' | 'en') => (
    <a key={`${format}-${lang}`} className="btn btn-small" href={`/api/v1${base}?format=${format}&lang=${lang}`} target="_blank" rel="noopener" data-testid={`report-${format}-${lang}`}>
      {t(`ops.report.${format}`)} · {t(lang === 'en' ? 'ops.report.inEnglish' : 'ops.report.inChinese')}
    </a>
  );
  return <div className="row-actions">{REPORT_VARIANTS.map(([format, lang]) => link(format, lang))}</div>;
}
