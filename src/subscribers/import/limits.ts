import { AppError } from '../../core/errors.ts';
import type { FailureKind, FieldProblem } from '../../core/errors.ts';
import type { ImportLimits } from '../config.ts';

export const fmt = (x: number) => x.toLocaleString('en');

/**
 * A file past one of the import limits. The message names the line (where there is one) and
 * the configuration key, so the operator knows what to split or which setting to raise.
 */
export function limitExceeded<K extends keyof ImportLimits>(limits: Pick<ImportLimits, K>, key: K, what: string, line?: number | null, unit = ''): AppError {
  return new AppError('validation', `${line ? `line ${fmt(line)}: ` : ''}${what} (limit imports.${key} = ${fmt(limits[key])}${unit})`, {
    problems: [{ field: 'file', message: `exceeds imports.${key} (${limits[key]}${unit})` }],
  });
}

/** An AppError as it crosses from the parsing worker to the main thread. */
export interface WireError {
  kind: FailureKind;
  message: string;
  problems: FieldProblem[];
}

export const toWire = (err: AppError): WireError => ({ kind: err.kind, message: err.message, problems: err.problems });
export const fromWire = (w: WireError): AppError => new AppError(w.kind, w.message, { problems: w.problems });
