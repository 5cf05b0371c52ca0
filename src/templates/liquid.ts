import { Context, Liquid } from 'liquidjs';
import type { FS, LiquidOptions, Template } from 'liquidjs';
import { AppError } from '../core/errors.ts';
import type { RenderBudget } from './budget.ts';

/** Which part of a template a piece of Liquid belongs to; names the field in errors. */
export type TemplatePart = 'subject' | 'html' | 'text' | 'mjml';

/**
 * The largest template part, in characters: the API and the stored templates' schemas say the
 * same, so a part the schema accepts is never refused by the parser with another message.
 */
export const TEMPLATE_MAX_CHARS = 5_000_000;

/**
 * The most Liquid tags and outputs one part may hold. liquidjs parses in time quadratic in
 * the number of tokens (it shifts them off the front of one array): 40,000 `{% if %}` blocks
 * took 9.7 s to parse, measured, while 10,000 markups parse in about 0.1 s.
 */
export const TEMPLATE_MAX_MARKUP = 10_000;

const NO_FILE_ACCESS = 'templates have no access to files; a stored template is chosen with templateId, and shared content belongs in the template itself';

/**
 * liquidjs resolves partials and layouts through this instead of the disk: nothing exists,
 * nothing is read. `include`, `render` and `layout` are refused before they could get here
 * (below); this stays so that no other way into the file system is left.
 */
const NO_FILES: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async () => {
    throw new Error(NO_FILE_ACCESS);
  },
  readFileSync: () => {
    throw new Error(NO_FILE_ACCESS);
  },
  resolve: (_dir, file) => file,
  contains: async () => false,
  containsSync: () => false,
  sep: '/',
  dirname: () => '',
};

const common: LiquidOptions = {
  // A missing variable is an error that names it, never an empty hole in a sent mail.
  strictVariables: true,
  strictFilters: true,
  // `{% if vip %}` on a recipient without `vip` is a plain false, as authors expect.
  lenientIf: true,
  ownPropertyOnly: true,
  fs: NO_FILES,
  root: [],
  partials: [],
  layouts: [],
  relativeReference: false,
  // Templates are written by tenants: bound what one can cost to parse and to render. Render
  // time and memory are a budget per request (RenderBudget), not per render.
  parseLimit: TEMPLATE_MAX_CHARS,
  cache: false,
};

function withoutFileTags(engine: Liquid): Liquid {
  for (const tag of ['include', 'render', 'layout']) {
    engine.registerTag(tag, {
      parse() {
        throw new Error(`{% ${tag} %} is not available: ${NO_FILE_ACCESS}`);
      },
      render() {},
    });
  }
  return engine;
}

/** HTML parts escape every output, so an attribute such as `<b>` arrives as text, not markup. */
export const htmlLiquid = withoutFileTags(new Liquid({ ...common, outputEscape: 'escape' }));
/** Subjects and text parts are not HTML: nothing is escaped. */
export const textLiquid = withoutFileTags(new Liquid({ ...common }));

const MARKUP = /\{\{|\{%/g;

/** Refuses a part over the size or markup limits with a message that says which limit. */
export function checkPartSize(part: TemplatePart, source: string, what = part as string): void {
  if (source.length > TEMPLATE_MAX_CHARS) {
    const message = `${what} is ${source.length.toLocaleString('en')} characters, over the limit of ${TEMPLATE_MAX_CHARS.toLocaleString('en')}`;
    throw new AppError('validation', message, { problems: [{ field: part, message }] });
  }
  let markups = 0;
  MARKUP.lastIndex = 0;
  while (MARKUP.exec(source)) {
    if (++markups > TEMPLATE_MAX_MARKUP) {
      const message = `${what} holds more than ${TEMPLATE_MAX_MARKUP.toLocaleString('en')} Liquid tags and outputs`;
      throw new AppError('validation', message, { problems: [{ field: part, message }] });
    }
  }
}

export function parsePart(engine: Liquid, part: TemplatePart, source: string): Template[] {
  checkPartSize(part, source);
  try {
    return engine.parse(source);
  } catch (err) {
    throw templateError(part, err, 'syntax error');
  }
}

/** Renders one part within the request's budget. */
export function renderPart(engine: Liquid, part: TemplatePart, tpl: Template[], vars: Record<string, unknown>, budget: RenderBudget): string {
  try {
    return budget.run(() => {
      const ctx = new Context(vars, engine.options, { sync: true }, { renderLimit: budget.renderLimit as unknown as Context['renderLimit'], memoryLimit: budget.memoryLimit as unknown as Context['memoryLimit'], liquid: engine });
      return engine.renderSync(tpl, ctx) as string;
    });
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
