/**
 * The same rules for a synchronous SMTP reply, so the delivery engine and the bounce listener
 * classify a refusal identically whether it came back in the session or in a DSN later.
 */
import { decideReason, findReplyCode, findStatus, isHardBounce, normaliseStatus, pseudoStatus } from './reason.ts';
import type { Reason } from './types.ts';

export interface SmtpReply {
  /** null and undefined both mean "not known" (the delivery engine passes null). */
  replyCode?: number | null;
  /** Enhanced status code when the server gave one (else it is looked for in the text). */
  status?: string | null;
  text: string;
  /** The command the reply answered, when known: MAIL, RCPT, DATA, HELO or CONN. */
  command?: string;
}

export interface ReplyClassification {
  reason: Reason;
  hardBounce: boolean;
  status: string;
}

export function classifySmtpReply(reply: SmtpReply): ReplyClassification {
  // SMTP replies are at most a few lines; anything longer is cut rather than scanned in full.
  const text = typeof reply.text === 'string' ? reply.text.slice(0, 8192) : '';
  const code = typeof reply.replyCode === 'number' && Number.isInteger(reply.replyCode) ? String(reply.replyCode) : findReplyCode(text);
  const status = normaliseStatus(typeof reply.status === 'string' ? reply.status : '') || findStatus(text);
  const temporary = code.startsWith('4') || status.startsWith('4');
  const reason = decideReason({
    recipient: '',
    status,
    replyCode: code,
    // A reply to a delivery attempt that is not 2xx is a failure of that attempt (temporary or
    // not); "delayed" would make an unexplained 4xx look like an expiry, which only the queue decides.
    action: code.startsWith('2') ? 'delivered' : 'failed',
    diagnostic: text,
    context: '',
    remoteHost: '',
    command: (reply.command ?? '').toUpperCase(),
    diagnosticType: 'smtp',
  });
  const finalStatus = status || pseudoStatus(reason, temporary);
  return { reason, hardBounce: isHardBounce(reason, finalStatus, code), status: finalStatus };
}
