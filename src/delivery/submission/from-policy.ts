/**
 * The From policy of SMTP submission, the same as the HTTP send API's: exactly one From
 * header holding one address (the API's parser), on a sending domain of the account's
 * tenant that may send, and aligned with the envelope sender's domain — the domain the
 * message is DKIM-signed with — so receivers' DMARC checks see the tenant's own domain.
 */
import { AppError } from '../../core/errors.ts';
import { SmtpReply } from '../../core/smtp-reply.ts';
import { canSendFrom } from '../../domains/index.ts';
import type { SendingDomainInfo } from '../../domains/index.ts';
import { parseFrom } from '../../core/from-header.ts';
import type { HeaderBlock } from './headers.ts';

/**
 * Relaxed DMARC alignment (RFC 7489 3.1) as far as it can be told without the public suffix
 * list: the same domain, or one a sub-domain of the other. Both are registered sending
 * domains of one tenant here, so neither is a public suffix.
 */
export function aligned(a: string, b: string): boolean {
  const x = a.toLowerCase().replace(/\.$/, '');
  const y = b.toLowerCase().replace(/\.$/, '');
  return x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`);
}

export interface FromContext {
  tenantId: string;
  /** The envelope sender's domain (it selects the DKIM key). */
  envelopeDomain: string;
  sendingDomain(domain: string): SendingDomainInfo | null | Promise<SendingDomainInfo | null>;
}

/** Resolves when the message's From passes; throws the SMTP refusal otherwise. */
export async function checkFrom(headers: HeaderBlock, ctx: FromContext): Promise<void> {
  const froms = headers.fields.filter((f) => f.name === 'from');
  if (froms.length === 0) throw new SmtpReply(550, '5.6.0 Message refused: it has no From header (RFC 5322 3.6 requires one)');
  if (froms.length > 1) throw new SmtpReply(550, `5.7.1 Message refused: ${froms.length} From headers; exactly one is allowed`);
  let address: string;
  let domain: string;
  try {
    ({ address, domain } = parseFrom(froms[0]!.value.trim(), 'From'));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    throw new SmtpReply(550, `5.7.1 Message refused: the From header must hold exactly one valid address (${err.message})`);
  }
  const info = await ctx.sendingDomain(domain);
  if (!info || info.tenantId !== ctx.tenantId) throw new SmtpReply(550, `5.7.1 Message refused: From ${address} is not on a sending domain of this account's tenant`);
  if (!canSendFrom(info)) throw new SmtpReply(550, `5.7.1 Message refused: From domain ${domain} must pass DNS verification before it sends`);
  if (!aligned(domain, ctx.envelopeDomain)) {
    throw new SmtpReply(550, `5.7.1 Message refused: From domain ${domain} is not aligned with the envelope sender's domain ${ctx.envelopeDomain} (DMARC); use a MAIL FROM on ${domain}`);
  }
}
