import { createRequire } from 'node:module';
import { AppError } from '../core/errors.ts';
import { checkPartSize } from './liquid.ts';

interface MjmlResult { html: string; errors: { formattedMessage?: string; message: string }[] }
type Mjml2Html = (source: string, options: Record<string, unknown>) => Promise<MjmlResult>;

// mjml ships CommonJS without type declarations; this is the one function we use. It is
// loaded with the first MJML template rather than at start: about 95 MiB resident that a
// node that only relays SMTP never needs.
let mjml2html: Mjml2Html | null = null;
const loadMjml = (): Mjml2Html => (mjml2html ??= createRequire(import.meta.url)('mjml') as Mjml2Html);

const refuse = (message: string, problems = [{ field: 'mjml', message }], cause?: unknown) => new AppError('validation', message, { problems, cause });

const LIQUID_MARKUP = /\{\{(?:(?!\}\})[\s\S])*\}\}|\{%(?:(?!%\})[\s\S])*%\}/g;

function lineOf(source: string, index: number): number {
  let line = 1;
  for (let i = source.indexOf('\n'); i !== -1 && i < index; i = source.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * MJML drops what it does not place (text directly in mj-body or mj-section, a Liquid loop
 * between sections) without an error; a template that lost its Liquid would send something
 * else than its author wrote. Every piece of Liquid must come through (MJML may reorder an
 * element's attributes, so this counts them rather than following their order).
 */
function checkLiquidKept(source: string, html: string): void {
  const kept = new Map<string, number>();
  for (const m of html.match(LIQUID_MARKUP) ?? []) kept.set(m, (kept.get(m) ?? 0) + 1);
  for (const m of source.matchAll(LIQUID_MARKUP)) {
    const left = kept.get(m[0]) ?? 0;
    if (left === 0) throw refuse(`invalid MJML: line ${lineOf(source, m.index)}: ${m[0]} is dropped by MJML; put Liquid inside mj-text, mj-button or mj-raw`);
    kept.set(m[0], left - 1);
  }
}

/** True when the compiled body shows nothing: no text and no image. */
function emptyBody(html: string): boolean {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html)?.[1] ?? html;
  if (/<img\b/i.test(body)) return false;
  const text = body.replace(/<!--[\s\S]*?-->/g, '').replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]*>/g, '').replace(/&nbsp;|\s/g, '');
  return text === '';
}

/**
 * MJML to HTML, once per template. Strict validation so a typo in a tag is an error at save
 * time rather than a silently dropped block; no web fonts (mail clients of bank customers
 * should not fetch from third parties) and no includes (templates have no access to files).
 * A layout whose content MJML would drop, or that renders an empty body, is refused too.
 */
export async function compileMjml(source: string): Promise<string> {
  checkPartSize('mjml', source);
  const include = /<mj-include\b/i.exec(source);
  if (include) throw refuse(`invalid MJML: line ${lineOf(source, include.index)}: mj-include is not available: templates have no access to files`);
  let html: string;
  try {
    html = (await loadMjml()(source, { validationLevel: 'strict', fonts: {}, ignoreIncludes: true, keepComments: false })).html;
  } catch (err) {
    const errors = (err as { errors?: { formattedMessage?: string; message: string; line?: number }[] }).errors;
    const problems = (errors?.length ? errors : [{ message: err instanceof Error ? err.message : String(err) }])
      .map((e) => ({ field: 'mjml', message: 'line' in e && e.line ? `line ${e.line}: ${e.message}` : e.message }));
    throw refuse(`invalid MJML: ${problems.map((p) => p.message).join('; ')}`, problems, err);
  }
  checkLiquidKept(source, html);
  if (emptyBody(html)) throw refuse('invalid MJML: the layout renders an empty body (put content in mj-section > mj-column > mj-text)');
  checkPartSize('mjml', html, 'the HTML compiled from mjml');
  return html;
}
