/** The bounce capability's public surface. */
export { classifyMessage } from './classify.ts';
export { classifySmtpReply } from './smtp-reply.ts';
export type { SmtpReply, ReplyClassification } from './smtp-reply.ts';
export { headlineReason, HEADLINE_LABELS } from './headline.ts';
export type { HeadlineReason } from './headline.ts';
export { classifyFiles } from './files.ts';
export { isHardBounce } from './reason.ts';
export { REASONS, isReason } from './types.ts';
export type { BounceReport, ClassifiedRecipient, Reason } from './types.ts';
export { encodeVerp, decodeVerp, verpReturnPath } from './verp.ts';
export { suppressionCheck, suppressUnsubscribe, addSuppression, removeSuppression, listSuppressions } from './suppressions.ts';
export { recordBounceEvent } from './events.ts';
export { startBounceListener } from './listener.ts';
export { registerInboundMailbox } from './mailboxes.ts';
export type { InboundMailbox } from './mailboxes.ts';
export { suppress } from './suppressions.ts';
