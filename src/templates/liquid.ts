import { Liquid } from 'liquidjs';
import type { Template } from 'liquidjs';
import { AppError } from '../core/errors.ts';

/** Which part of a template a piece of Liquid belongs to; names the field in errors. */
export type TemplatePart = 'subject' | 'html' | 'text' | 'mjml';

const common = {
  // A missing variable is an error that names it, never an empty hole in a sent mail.
  strictVariables: true,
  strictFilters: true,
  // `{% if vip %}` on a recipient without `vip` is a plain false, as authors expect.
  lenientIf: true,
  ownPropertyOnly: true,
  // Templates are written by tenants: bound what one can cost to parse and to render. Both
  // limits are needed: `(1..100000000)` allocates its range before any time check runs (18 s
  // and 800 MB without memoryLimit, measured). They cost about a third of a simple render.
  parseLimit: 1_000_000,
  renderLimit: 2_000,
  memoryLimit: 64_000_000,
  cache: false,
} as const;

/** HTML parts escape every output, so an attribute such as `<b>` arrives as text, not markup. */
export const htmlLiquid = new Liquid({ ...common, outputEscape: 'escape' });
/** Subjects and text parts are not HTML: nothing is escaped. */
export const textLiquid = new Liquid({ ...common });

export function parsePart(engine: Liquid, part: TemplatePart, source: string): Template[] {
  try {
    return engine.parse(source);
  } catch (err) {
    throw templateError(part, err, 'syntax error');
  }
}

export function renderPart(engine: Liquid, part: TemplatePart, tpl: Template[], vars: Record<string, unknown>): string {
  try {
    return engine.renderSync(tpl, vars) as string;
  } catch (err) {
    throw templateError(part, err, 'cannot render');
  }
}

/**
 * Turns a liquidjs error into a validation AppError whose message names the part, the
 * variable (when one is missing) and the position, e.g.
 * `missing variable "customer" in html at line 1, column 7`.
 */
export function templateError(part: TemplatePart, err: unknown, what: string): AppError {
  const raw = err instanceof Error ? err.message : String(err);
  const missing = /undefined variable: ([^,]+), line:(\d+), col:(\d+)/.exec(raw);
  if (missing) {
    const message = `missing variable "${missing[1]}" in ${part} at line ${missing[2]}, column ${missing[3]}`;
    return new AppError('validation', message, { problems: [{ field: part, message }], cause: err });
  }
  const at = /, line:(\d+), col:(\d+)/.exec(raw);
  const detail = raw.replace(/, line:\d+, col:\d+[\s\S]*$/, '');
  const message = `${part} template ${what}: ${detail}${at ? ` at line ${at[1]}, column ${at[2]}` : ''}`;
  return new AppError('validation', message, { problems: [{ field: part, message }], cause: err });
}
