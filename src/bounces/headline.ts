import type { Reason } from './types.ts';

/**
 * The seed's three headline failure reasons (邮箱地址不存在 / 邮箱空间不足 / 用户拒收) and
 * "other", derived from the fine reasons for failure statistics.
 */
export type HeadlineReason = 'user_unknown' | 'mailbox_full' | 'rejected' | 'other';

const HEADLINES: Partial<Record<Reason, HeadlineReason>> = {
  // The address does not exist (any more).
  userunknown: 'user_unknown',
  hostunknown: 'user_unknown',
  hasmoved: 'user_unknown',
  notaccept: 'user_unknown',
  // No room for the message.
  mailboxfull: 'mailbox_full',
  // The recipient's side refused the message: filters, policy, reputation, spam, blocks.
  rejected: 'rejected',
  filtered: 'rejected',
  blocked: 'rejected',
  spamdetected: 'rejected',
  policyviolation: 'rejected',
  virusdetected: 'rejected',
  badreputation: 'rejected',
  authfailure: 'rejected',
  requireptr: 'rejected',
  norelaying: 'rejected',
  securityerror: 'rejected',
  contenterror: 'rejected',
  notcompliantrfc: 'rejected',
  feedback: 'rejected',
};

export const HEADLINE_LABELS: Record<HeadlineReason, { 'zh-CN': string; en: string }> = {
  user_unknown: { 'zh-CN': '邮箱地址不存在', en: 'Address does not exist' },
  mailbox_full: { 'zh-CN': '邮箱空间不足', en: 'Mailbox full' },
  rejected: { 'zh-CN': '用户拒收', en: 'Recipient rejected' },
  other: { 'zh-CN': '其他', en: 'Other' },
};

export function headlineReason(reason: string): HeadlineReason {
  return HEADLINES[reason as Reason] ?? 'other';
}
