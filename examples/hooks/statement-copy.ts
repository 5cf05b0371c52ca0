/**
 * Copies every statement to the bank's own archive over HTTP before it is queued: a message
 * tagged `X-Fanout-Tag: statement` is POSTed (message/rfc822) to BANK_ARCHIVE_URL; the
 * archive's answer `{ "id": ... }` comes back as the X-Bank-Archive-Id header of the message
 * sent. When the bank's archive does not answer 2xx the hook throws, so the configured
 * fallback (temporary failure by default) makes the business system submit again later:
 * no statement leaves without its copy.
 *
 * Enable: FANOUT_HOOKS=examples/hooks/statement-copy.ts BANK_ARCHIVE_URL=https://archive.bank.internal/statements
 */
import type { SubmissionMessage, SubmissionVerdict } from '../../src/hooks/types.ts';

const url = process.env.BANK_ARCHIVE_URL ?? 'http://127.0.0.1:8900/statements';

function isStatement(raw: string): boolean {
  const head = raw.slice(0, raw.search(/\r?\n\r?\n/) >>> 0);
  return /^x-fanout-tag:[^\r\n]*\bstatement\b/im.test(head);
}

export default {
  async 'submission.message'(m: SubmissionMessage): Promise<SubmissionVerdict> {
    if (!isStatement(m.raw)) return { action: 'accept' };
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'x-fanout-tenant': m.tenantId, 'x-fanout-recipients': m.recipients.join(',') },
      body: m.raw,
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`the bank's archive answered ${res.status}`);
    const { id } = (await res.json()) as { id?: unknown };
    return { action: 'accept', addHeaders: typeof id === 'string' && /^[\w.-]{1,100}$/.test(id) ? [['X-Bank-Archive-Id', id]] : [] };
  },
};
