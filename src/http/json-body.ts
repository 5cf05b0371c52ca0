import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';

/**
 * How deep any JSON body may nest. The deepest body the API defines is a recipient's
 * variables inside the recipient list (about six levels); 32 leaves room for structured
 * variables. Without a bound, `vars` nested 20,000 arrays deep overflowed the stack of code
 * that walks values recursively (hashing, rendering) and answered 500.
 */
export const MAX_JSON_DEPTH = 32;

/** JSON pointer segment (RFC 6901). */
const segment = (key: string | number) => String(key).replace(/~/g, '~0').replace(/\//g, '~1');

function refuse(field: string, message: string): AppError {
  return new AppError('validation', `${field} ${message}`, { problems: [{ field, message }] });
}

/**
 * Walks a parsed body once, without recursion: refuses nesting deeper than MAX_JSON_DEPTH and
 * the keys that pollute prototypes when a body is merged into another object (`__proto__`,
 * and `constructor` holding a `prototype`), naming the field of the first offender.
 */
export function checkJsonShape(value: unknown, root = '/body'): void {
  const stack: [unknown, string, number][] = [[value, root, 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) throw refuse(path, `nests deeper than ${MAX_JSON_DEPTH} levels`);
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}/${i}`, depth + 1]);
      continue;
    }
    for (const key of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[key];
      if (key === '__proto__') throw refuse(`${path}/__proto__`, 'is not an allowed field name');
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) {
        throw refuse(`${path}/constructor/prototype`, 'is not an allowed field name');
      }
      stack.push([child, `${path}/${segment(key)}`, depth + 1]);
    }
  }
}

/**
 * The JSON content-type parser of the API: JSON.parse (iterative in V8, so deep input cannot
 * overflow it), then the shape check. Each failure is a 400 problem that says what is wrong.
 */
export function parseJsonBody(_req: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void): void {
  if (body.length === 0) {
    done(refuse('/body', 'is empty; send a JSON document or no Content-Type'));
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);
  } catch (err) {
    done(refuse('/body', `is not valid JSON: ${(err as Error).message}`));
    return;
  }
  try {
    checkJsonShape(parsed);
  } catch (err) {
    done(err as Error);
    return;
  }
  done(null, parsed);
}
