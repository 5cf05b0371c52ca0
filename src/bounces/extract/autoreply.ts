/**
 * Auto-replies (RFC 3834 and the common out-of-office conventions). Bounces also carry
 * Auto-Submitted, so an auto-reply is only recognised when the message is not a bounce:
 * not from a mail daemon and with a subject or header that says it is an automatic reply.
 */
import { header } from '../mime.ts';
import type { MimePart } from '../mime.ts';
import { addressesIn, isRobot } from './addresses.ts';

const SUBJECT_RE = /\b(?:auto(?:matic)?[ -]?(?:reply|response|antwort|answer)|out of (?:the )?office|vacation|away from|absence|abwesenheit|autorespond|on leave|en vacances)\b|自動(?:応答|返信|回复|回覆)|自动回复|不在/i;

export function isAutoReply(root: MimePart): boolean {
  const from = addressesIn(header(root.headers, 'from') ?? '')[0] ?? '';
  if (!from || isRobot(from)) return false;
  const subject = header(root.headers, 'subject') ?? '';
  const auto = (header(root.headers, 'auto-submitted') ?? '').toLowerCase();
  if (auto.startsWith('auto-replied')) return true;
  if (root.headers.fields.has('x-autoreply') || root.headers.fields.has('x-autorespond') || /auto[-_]?reply/i.test(header(root.headers, 'precedence') ?? '')) return true;
  return SUBJECT_RE.test(subject) && !/undeliver|deliver(?:y|ed)? (?:status|failure)|failure notice|returned mail/i.test(subject);
}

/** The auto-replying address: the one the original message went to. */
export function autoReplyRecipient(root: MimePart): string {
  return addressesIn(header(root.headers, 'from') ?? '')[0] ?? '';
}
