/**
 * A report as a list of blocks, rendered by html.ts and pdf.ts alike, so the HTML and PDF
 * of one report always say the same thing in the same order (the seed's templates).
 */
export type Status = 'ok' | 'warning' | 'error' | 'unavailable';

export type Block =
  | { kind: 'heading'; text: string }
  | { kind: 'fields'; rows: [string, string][] }
  | { kind: 'table'; columns: string[]; widths: number[]; rows: string[][]; statuses?: (Status | null)[] }
  | { kind: 'paragraph'; text: string }
  | { kind: 'checkboxes'; label: string; options: string[]; checked: string | null }
  | { kind: 'diagram'; store: string; nodes: { name: string; roles: string; state: string }[] }
  /** Lines left blank for the customer to fill in by hand. */
  | { kind: 'blanks'; rows: string[] }
  | { kind: 'signatures'; left: string; right: string };

export interface ReportDocument {
  lang: 'zh-CN' | 'en';
  title: string;
  subtitle: string;
  blocks: Block[];
  footer: string;
}

export type Lang = ReportDocument['lang'];

export function parseLang(value: unknown): Lang {
  return value === 'en' ? 'en' : 'zh-CN';
}

/** A local time for people: `2026-11-03 14:05 (Asia/Shanghai)`. */
export function localTime(at: string | number | null, timeZone: string): string {
  if (at === null) return '—';
  const t = typeof at === 'number' ? at : Date.parse(at);
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return `${f.format(t)} (${timeZone})`;
}
