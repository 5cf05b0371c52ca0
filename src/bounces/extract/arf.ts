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
