/**
 * Typed failures raised by services. The HTTP layer maps them to problem+json responses and
 * the SMTP servers to reply codes, each in exactly one place; services never speak HTTP or SMTP.
 */
export type FailureKind =
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'quota_exceeded'
  | 'rate_limited'
  | 'locked'
  | 'unavailable';

export interface FieldProblem {
  /** JSON pointer or dotted path of the offending field, e.g. /recipients/3/email. */
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly kind: FailureKind;
  readonly problems: FieldProblem[];
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: FailureKind, message: string, options: { problems?: FieldProblem[]; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.problems = options.problems ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const invalid = (message: string, problems: FieldProblem[] = []) => new AppError('validation', message, { problems });
export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const conflict = (message: string) => new AppError('conflict', message);
export const forbidden = (message = 'not allowed for this user') => new AppError('forbidden', message);
