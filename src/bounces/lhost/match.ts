/** Small helpers the readers share: case-insensitive phrase lookup and line picking. */
import type { CommandRule, MessageRule, StatusRule } from './types.ts';
import type { Reason } from '../types.ts';

/** Whitespace collapsed, lower-cased: the form tables are matched against. */
export function flat(text: string): string {
  return text.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Whether `text` (already flat) holds one of `phrases`. */
export function saysAny(text: string, phrases: readonly string[]): boolean {
  return phrases.some((p) => text.includes(p.toLowerCase()));
}

export function reasonByMessages(text: string, rules: readonly MessageRule[] | undefined): Reason | undefined {
  return rules?.find((r) => saysAny(text, r.phrases))?.reason;
}

const compiledStatuses = new WeakMap<readonly StatusRule[], { re: RegExp; reason: Reason }[]>();

export function reasonByStatus(status: string, rules: readonly StatusRule[] | undefined): Reason | undefined {
  if (!rules || !status) return undefined;
  let compiled = compiledStatuses.get(rules);
  if (!compiled) {
    compiled = rules.map((r) => ({ re: new RegExp(`^(?:${r.status})$`), reason: r.reason }));
    compiledStatuses.set(rules, compiled);
  }
  return compiled.find((r) => r.re.test(status))?.reason;
}

export function commandBy(text: string, rules: readonly CommandRule[] | undefined): string | undefined {
  return rules?.find((r) => saysAny(text, r.phrases))?.command;
}

/** The first line of `report` that holds `needle` (case-insensitive), trimmed; '' when none. */
export function lineWith(report: string, needle: string): string {
  const at = report.toLowerCase().indexOf(needle.toLowerCase());
  if (at < 0) return '';
  const start = report.lastIndexOf('\n', at) + 1;
  const end = report.indexOf('\n', at);
  return report.slice(start, end < 0 ? report.length : end).trim();
}

/** The SMTP command named in "most progress was RCPT TO response" and similar wording. */
export function commandNamed(text: string): string {
  const m = /\b(rcpt to|mail from|data|ehlo|helo|starttls|auth)\b/i.exec(text);
  if (!m?.[1]) return '';
  const c = m[1].toLowerCase();
  if (c === 'rcpt to') return 'RCPT';
  if (c === 'mail from') return 'MAIL';
  if (c === 'data') return 'DATA';
  return 'HELO';
}
