/**
 * Filtering appliances and gateways that write their own reports: McAfee, Trend Micro InterScan
 * MSS, Amavis, and the anonymous appliances Sisimai calls X3 and X4.
 */
import type { Lhost } from './types.ts';
import { QMAIL_COMMANDS } from './qmail.ts';
import { commandBy, reasonByMessages } from './match.ts';
import type { MessageRule } from './types.ts';

export const mcafee: Lhost = {
  name: 'McAfee',
  detect: (m) => m.header('x-nai-header').includes('Modified by McAfee') && m.subject === 'Delivery Status',
  messages: [{ reason: 'userunknown', phrases: [' user not exist', ' unknown.', '550 unknown user ', 'no such user'] }],
};

export const interScanMss: Lhost = {
  name: 'InterScanMSS',
  detect: (m) =>
    /^"InterScan (?:MSS|Notification)"/.test(m.from) ||
    ['Mail could not be delivered', 'メッセージを配信できません。', 'メール配信に失敗しました'].includes(m.subject.trim()),
  // "Unable to deliver message to <x>" is its only sentence for a recipient the next hop refused.
  messages: [{ reason: 'userunknown', phrases: ['unable to deliver message to'] }],
};

export const amavis: Lhost = {
  name: 'Amavis',
  detect: (m) => m.from.startsWith('"Content-filter at '),
  messages: [
    { reason: 'spamdetected', phrases: [' - spam'] },
    { reason: 'virusdetected', phrases: [' - infected'] },
    { reason: 'contenterror', phrases: [' - bad header:'] },
    { reason: 'exceedlimit', phrases: [' - message size exceeds recipient'] },
    { reason: 'systemerror', phrases: [' - temporary mta failure on relaying', ' - rejected by next-hop mta on relaying', ' - unable to relay message back to mta'] },
  ],
};

const X3_STAGE: Record<string, string> = { rcpt: 'RCPT', mail: 'MAIL', data: 'DATA', helo: 'HELO', ehlo: 'HELO' };

export const x3: Lhost = {
  name: 'X3',
  detect: (m) => m.from.startsWith('Mail Delivery System') && m.subject.startsWith('Delivery status notification'),
  // "SMTP:RCPT host 192.0.2.1: 553 ..." names the command the remote host answered.
  read: (input) => ({ command: X3_STAGE[/smtp:(rcpt|mail|data|helo|ehlo)\b/.exec(input.diagnostic)?.[1] ?? ''] }),
};

/** X4: qmail derivatives ("failure notice", "Permanent Delivery Failure"). */
const X4_MESSAGES: readonly MessageRule[] = [
  { reason: 'userunknown', phrases: ['no mailbox here by that name', 'does not like recipient.'] },
  { reason: 'mailboxfull', phrases: ['disk quota exceeded'] },
  { reason: 'mesgtoobig', phrases: ['message size exceeds fixed maximum message size:'] },
  { reason: 'hostunknown', phrases: ["sorry, i couldn't find any host "] },
  { reason: 'systemfull', phrases: ['requested action not taken: mailbox unavailable (not enough free space)'] },
  { reason: 'systemerror', phrases: ['bad interpreter: no such file or directory', 'system error', 'unable to'] },
  { reason: 'networkerror', phrases: ["sorry, i wasn't able to establish an smtp connection", "sorry, i couldn't find a mail exchanger or ip address", "sorry. although i'm listed as a best-preference mx or a for that host"] },
];

export const x4: Lhost = {
  name: 'X4',
  detect: (m) => /^permanent delivery failure/i.test(m.subject),
  read(input) {
    const command = commandBy(input.diagnostic, QMAIL_COMMANDS);
    if (command === 'HELO') return { command, reason: 'blocked' };
    return { command, reason: reasonByMessages(input.diagnostic, X4_MESSAGES) };
  },
};
