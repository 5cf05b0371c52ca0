import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { FailureKind, FieldProblem } from '../core/errors.ts';
import { CONTENT_TYPE_PATTERN, HEADER_NAME_PATTERN, HEADER_SAFE_PATTERN } from './schemas.ts';

/** RFC 9457 problem details: the only shape an error leaves the HTTP API in. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldProblem[];
  /** The request's id, as in the server's log: what an operator searches for. */
  requestId?: string;
}

const STATUS: Record<FailureKind, [number, string]> = {
  validation: [400, 'Invalid request'],
  unauthorized: [401, 'Authentication required'],
  forbidden: [403, 'Forbidden'],
  not_found: [404, 'Not found'],
  conflict: [409, 'Conflict'],
  quota_exceeded: [403, 'Quota exceeded'],
  rate_limited: [429, 'Too many requests'],
  locked: [423, 'Locked'],
  unavailable: [503, 'Service unavailable'],
};

const typeUri = (slug: string) => `https://fanout.dev/problems/${slug}`;

/** Turns an AJV error list into field problems with JSON-pointer paths. */
function ajvProblems(err: FastifyError): FieldProblem[] {
  const list = (err.validation ?? []) as { instancePath?: string; message?: string; keyword?: string; params?: Record<string, unknown> }[];
  const part = err.validationContext ?? 'body';
  return list.map((v) => {
    let field = `/${part}${v.instancePath ?? ''}`;
    let message = v.message ?? 'is invalid';
    if (v.keyword === 'additionalProperties' && v.params?.additionalProperty) {
      field = `${field}/${String(v.params.additionalProperty)}`;
      message = 'is not a known field';
    }
    if (v.keyword === 'pattern' && v.params?.pattern === HEADER_SAFE_PATTERN) message = 'must not contain CR, LF or NUL';
    if (v.keyword === 'pattern' && v.params?.pattern === CONTENT_TYPE_PATTERN) message = 'must be a MIME type such as application/pdf, on one line (no CR, LF or NUL)';
    if (v.keyword === 'propertyNames' || (v.keyword === 'pattern' && v.params?.pattern === HEADER_NAME_PATTERN)) {
      if (v.params?.propertyName) field = `${field}/${String(v.params.propertyName)}`;
      message = v.keyword === 'propertyNames' ? 'is not an allowed name' : message;
    }
    if (v.keyword === 'required' && v.params?.missingProperty) {
      field = `${field}/${String(v.params.missingProperty)}`;
      message = 'is required';
    }
    return { field, message };
  });
}

export function toProblem(err: unknown, instance?: string): Problem {
  if (err instanceof AppError) {
    const [status, title] = STATUS[err.kind];
    return { type: typeUri(err.kind.replace(/_/g, '-')), title, status, detail: err.message, instance, ...(err.problems.length ? { errors: err.problems } : {}) };
  }
  const fe = err as FastifyError;
  if (fe && fe.validation) {
    const errors = ajvProblems(fe);
    const detail = errors.map((e) => `${e.field} ${e.message}`).join('; ');
    return { type: typeUri('validation'), title: 'Invalid request', status: 400, detail, instance, errors };
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { type: typeUri(fe.code ? fe.code.toLowerCase() : 'bad-request'), title: 'Bad request', status: fe.statusCode, detail: fe.message, instance };
  }
  return { type: typeUri('internal'), title: 'Internal error', status: 500, detail: 'an unexpected error occurred; it has been logged with the request id', instance };
}

export function sendProblem(reply: FastifyReply, problem: Problem, retryAfterSeconds?: number): FastifyReply {
  if (retryAfterSeconds) reply.header('retry-after', String(retryAfterSeconds));
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/** The path without its query string: query strings may carry tokens and are not logged. */
const pathOf = (url: string) => url.split('?')[0]!;

/**
 * The one place errors become HTTP responses. Every 500 is logged with the request id the
 * problem carries; the log line holds the method, the route pattern and the error, never the
 * body, the headers (Authorization, cookies) or the path and query (recipient links carry
 * signed tokens there).
 */
export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = { ...toProblem(err, pathOf(req.url)), requestId: req.id };
  if (problem.status >= 500) req.log.error({ err, method: req.method, route: req.routeOptions?.url ?? null, status: problem.status }, 'request failed');
  return sendProblem(reply, problem, err instanceof AppError ? err.retryAfterSeconds : undefined);
}
