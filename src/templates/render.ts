import type { Template } from 'liquidjs';
import { invalid } from '../core/errors.ts';
import { RenderBudget } from './budget.ts';
import { htmlLiquid, parsePart, renderPart, templateError, textLiquid } from './liquid.ts';
import { compileMjml } from './mjml.ts';
import { htmlToText } from './text.ts';

export { buildMime } from './mime.ts';
export { RenderBudget } from './budget.ts';
export type { RenderLimits } from './budget.ts';
export type { MimeParts } from './mime.ts';

export interface TemplateSource {
  subject: string;
  html?: string | null;
  text?: string | null;
  /** MJML layout; compiled to HTML once, then used as the HTML part. Excludes `html`. */
  mjml?: string | null;
}

/** A template parsed once, rendered per recipient with `renderMessage`. */
export interface CompiledTemplate {
  readonly subject: Template[];
  readonly html: Template[] | null;
  /** The text part's template: given, or derived from the HTML source (see deriveTextTemplate). */
  readonly text: Template[] | null;
  /** True when `text` was derived from the HTML: its blank-line runs are tidied per message. */
  readonly textDerived: boolean;
  /** The HTML as it was before Liquid (MJML already compiled): for previews and debugging. */
  readonly htmlSource: string | null;
}

export interface RenderedMessage {
  subject: string;
  html: string | null;
  text: string;
}

const present = (s: string | null | undefined): s is string => typeof s === 'string' && s.trim() !== '';

/**
 * Parses every part once. Async only because MJML 5 compiles asynchronously; call it once per
 * template (or per API request for inline content), never per recipient.
 * Throws a validation AppError naming the part for bad Liquid or MJML.
 */
export async function compileTemplate(t: TemplateSource): Promise<CompiledTemplate> {
  const problems = [];
  if (!present(t.subject)) problems.push({ field: 'subject', message: 'a subject is required' });
  if (!present(t.html) && !present(t.text) && !present(t.mjml)) problems.push({ field: 'html', message: 'give html, mjml or text content' });
  if (present(t.html) && present(t.mjml)) problems.push({ field: 'mjml', message: 'give either html or mjml, not both' });
  if (problems.length) throw invalid(problems.map((p) => p.message).join('; '), problems);

  const htmlSource = present(t.mjml) ? await compileMjml(t.mjml) : present(t.html) ? t.html : null;
  const subject = parsePart(textLiquid, 'subject', t.subject);
  const html = htmlSource === null ? null : parsePart(htmlLiquid, present(t.mjml) ? 'mjml' : 'html', htmlSource);
  const given = present(t.text);
  const text = given ? parsePart(textLiquid, 'text', t.text!) : htmlSource === null ? null : deriveTextTemplate(htmlSource);
  return { subject, html, text, textDerived: !given && text !== null, htmlSource };
}

const ONE_TAG = String.raw`\{%(?:(?!%\})[\s\S])*%\}`;
const LIQUID_TAG = new RegExp(ONE_TAG, 'g');
const LIQUID_OUTPUT = /\{\{(?:(?!\}\})[\s\S])*\}\}/g;
const BLOCK = '(?:p|div|table|tbody|thead|tfoot|tr|td|th|ul|ol|li|h[1-6]|section|article|center|br|hr|blockquote)';
// A tag standing between block elements (a loop over table rows, a conditional paragraph).
const TAG_BETWEEN_BLOCKS = new RegExp(`(<\\/?${BLOCK}\\b[^>]*>\\s*)(${ONE_TAG})|(${ONE_TAG})(?=\\s*<\\/?${BLOCK}\\b)`, 'gi');
const TAG_ALONE_ON_LINE = new RegExp(`^[ \\t]*(${ONE_TAG})[ \\t]*(?:\\n|$)`, 'gm');

/**
 * Converting HTML to text for every recipient costs about a millisecond for a small mail and
 * several for an MJML one, too much at a thousand mails a second. So the converter runs once,
 * over the HTML *template*: its Liquid markup is plain text to the converter and survives into
 * a text template. A tag between blocks is put in a block of its own, so each loop iteration
 * keeps its own line, and then the tag's line is folded away as Liquid's `{%- -%}` would.
 * Outputs may be dropped (an image's src="{{ logo }}" has no place in text) but every tag must
 * come through unchanged and in order, or the text's logic would differ from the HTML's; when
 * it does not we return null and renderMessage converts each rendered HTML instead.
 */
function deriveTextTemplate(htmlSource: string): Template[] | null {
  const blocked = htmlSource.replace(TAG_BETWEEN_BLOCKS, (_m, pre: string | undefined, t1: string | undefined, t2: string | undefined) =>
    pre !== undefined ? `${pre}<div>${t1}</div>` : `<div>${t2}</div>`);
  const textSource = htmlToText(blocked).replace(TAG_ALONE_ON_LINE, '$1');
  const tags = (s: string) => (s.match(LIQUID_TAG) ?? []).join('\u0000');
  if (tags(htmlSource) !== tags(textSource)) return null;
  const outputs = new Set(htmlSource.match(LIQUID_OUTPUT) ?? []);
  if (!(textSource.match(LIQUID_OUTPUT) ?? []).every((o) => outputs.has(o))) return null;
  try {
    return textLiquid.parse(textSource);
  } catch {
    return null;
  }
}

/**
 * One recipient's subject, HTML and text. The subject is one line (CR/LF become spaces and NUL
 * is dropped, so a variable cannot inject a header). Throws a validation AppError naming a
 * missing variable, or saying which limit of `budget` was reached. Every recipient of one
 * request shares one budget; without one, this message alone gets the default budget.
 */
export function renderMessage(compiled: CompiledTemplate, vars: Record<string, unknown>, budget: RenderBudget = new RenderBudget()): RenderedMessage {
  // eslint-disable-next-line no-control-regex
  const subject = renderPart(textLiquid, 'subject', compiled.subject, vars, budget).replace(/[\r\n\t]+/g, ' ').replace(/\u0000/g, '').trim();
  const html = compiled.html ? renderPart(htmlLiquid, 'html', compiled.html, vars, budget) : null;
  let text: string;
  if (compiled.text) {
    text = renderPart(textLiquid, 'text', compiled.text, vars, budget);
    if (compiled.textDerived) text = text.replace(/\n{3,}/g, '\n\n').trim();
  }
  else if (html !== null) text = convertPerMessage(html, budget);
  else text = '';
  return { subject, html, text };
}

/** The rendered HTML's text, when no text template could be derived: timed like a render. */
function convertPerMessage(html: string, budget: RenderBudget): string {
  try {
    const text = budget.run(() => htmlToText(html));
    budget.renderLimit.check(performance.now());
    return text;
  } catch (err) {
    throw templateError('text', err, 'cannot render');
  }
}

/**
 * Compiles and renders with sample data, as the console's preview does. A missing variable,
 * bad Liquid or bad MJML comes back as a validation AppError that names it.
 */
export async function previewTemplate(t: TemplateSource, sample: Record<string, unknown> = {}, budget: RenderBudget = new RenderBudget()): Promise<RenderedMessage> {
  const compiled = await compileTemplate(t);
  return renderMessage(compiled, sample, budget);
}
