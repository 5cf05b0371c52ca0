/**
 * ARF complaint reports (RFC 5965): a multipart/report with a message/feedback-report part.
 * The complaining recipient is named by Original-Rcpt-To (one field per address), else by
 * Removal-Recipient, else it is the To of the returned original message.
 */
import { header, headerAll, parseHeaders, partText, walk } from '../mime.ts';
import type { MimePart } from '../mime.ts';
import { cleanAddress } from './dsn.ts';
import { addressesIn } from './addresses.ts';

export interface FeedbackReport {
  feedbackType: string;
  recipients: string[];
  userAgent: string;
}

export function findFeedbackPart(root: MimePart): MimePart | null {
  return walk(root).find((p) => p.type === 'message/feedback-report') ?? null;
}

export function readFeedback(root: MimePart, feedbackPart: MimePart, original: MimePart | null): FeedbackReport {
  const fields = parseHeaders(partText(feedbackPart).replace(/^\s+/, ''));
  let recipients = headerAll(fields, 'original-rcpt-to').map(cleanAddress).filter((a) => a.includes('@'));
  if (recipients.length === 0) recipients = headerAll(fields, 'removal-recipient').map(cleanAddress).filter((a) => a.includes('@'));
  if (recipients.length === 0 && original) recipients = addressesIn(header(original.headers, 'to') ?? '');
  if (recipients.length === 0) recipients = addressesIn(header(root.headers, 'to') ?? '').slice(0, 1);
  return {
    feedbackType: (header(fields, 'feedback-type') ?? 'abuse').toLowerCase(),
    recipients,
    userAgent: header(fields, 'user-agent') ?? '',
  };
}

/** Who sends Microsoft's JMRP-style complaints: the old Hotmail address and SES's complaint relay. */
const JMRP_SENDERS = ['staff@hotmail.com', 'complaints@email-abuse.amazonses.com'];

/**
 * Microsoft's complaint reports (JMRP) are no RFC 5965 report: a multipart/mixed message
 * "complaint about message from <ip>" from staff@hotmail.com with the original enclosed, whose
 * X-HmXmrOriginalRecipient header (else its To) names the complaining recipient.
 */
export function readMicrosoftComplaint(root: MimePart, original: MimePart | null): FeedbackReport | null {
  if (!root.type.startsWith('multipart/')) return null;
  if (!(header(root.headers, 'subject') ?? '').toLowerCase().includes('complaint about message from ')) return null;
  const from = addressesIn(header(root.headers, 'from') ?? '')[0] ?? '';
  if (!JMRP_SENDERS.includes(from)) return null;
  if (!original) return null;
  const named = addressesIn(header(original.headers, 'x-hmxmroriginalrecipient') ?? '');
  const recipients = named.length > 0 ? named : addressesIn(header(original.headers, 'to') ?? '');
  return recipients.length > 0 ? { feedbackType: 'abuse', recipients, userAgent: '' } : null;
}
