import type { OpsDeps } from '../context.ts';
import type { OpsResolver } from './resolver.ts';

export const CHECK_STATUSES = ['ok', 'warning', 'error', 'unavailable'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];
export type InspectionKind = 'full' | 'light';

/** One finding of an inspection. `subject` names the domain, address or provider of per-item checks. */
export interface CheckResult {
  key: string;
  subject: string | null;
  category: 'hardware' | 'network' | 'storage' | 'services' | 'fanout' | 'queue' | 'dns' | 'security';
  status: CheckStatus;
  value: unknown;
  threshold: unknown;
  message: string;
  /** The value as one number, for history charts. */
  numeric?: number | null;
}

export interface CheckContext {
  deps: OpsDeps;
  resolver: OpsResolver;
  kind: InspectionKind;
}

export interface CheckDefinition {
  key: string;
  /** Light inspections run every few minutes: cheap checks only. */
  light: boolean;
  /** How long the check may take before it is reported unavailable. */
  timeoutMs?: number;
  run(ctx: CheckContext): Promise<CheckResult | CheckResult[]>;
}

export function result(key: string, category: CheckResult['category'], status: CheckStatus, message: string, value: unknown = null, threshold: unknown = null, extra: Partial<CheckResult> = {}): CheckResult {
  return { key, subject: null, category, status, value, threshold, message, numeric: typeof value === 'number' ? value : null, ...extra };
}

/** ok below warn, warning from warn, error from error (higher is worse). */
export function grade(value: number, warn: number, error: number): CheckStatus {
  return value >= error ? 'error' : value >= warn ? 'warning' : 'ok';
}
