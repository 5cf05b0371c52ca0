import { createRequire } from 'node:module';
import { AppError } from '../core/errors.ts';

interface MjmlResult { html: string; errors: { formattedMessage?: string; message: string }[] }
type Mjml2Html = (source: string, options: Record<string, unknown>) => Promise<MjmlResult>;

// mjml ships CommonJS without type declarations; this is the one function we use. It is
// loaded with the first MJML template rather than at start: about 95 MiB resident that a
// node that only relays SMTP never needs.
let mjml2html: Mjml2Html | null = null;
const loadMjml = (): Mjml2Html => (mjml2html ??= createRequire(import.meta.url)('mjml') as Mjml2Html);

/**
 * MJML to HTML, once per template. Strict validation so a typo in a tag is an error at save
 * time rather than a silently dropped block; no web fonts (mail clients of bank customers
 * should not fetch from third parties) and no includes (a tenant must not read server files).
 */
export async function compileMjml(source: string): Promise<string> {
  try {
    const result = await loadMjml()(source, { validationLevel: 'strict', fonts: {}, ignoreIncludes: true, keepComments: false });
    return result.html;
  } catch (err) {
    const errors = (err as { errors?: { formattedMessage?: string; message: string; line?: number }[] }).errors;
    const problems = (errors?.length ? errors : [{ message: err instanceof Error ? err.message : String(err) }])
      .map((e) => ({ field: 'mjml', message: 'line' in e && e.line ? `line ${e.line}: ${e.message}` : e.message }));
    throw new AppError('validation', `invalid MJML: ${problems.map((p) => p.message).join('; ')}`, { problems, cause: err });
  }
}
