/** Exim (and Mail.ru, which runs it): "SMTP error from remote mail server after RCPT TO:", its own sentences. */
import type { Lhost, LhostVerdict, MessageRule } from './types.ts';
import { reasonByMessages, saysAny } from './match.ts';

export const EXIM_MESSAGES: readonly MessageRule[] = [
  { reason: 'userunknown', phrases: ['user not found'] },
  { reason: 'hostunknown', phrases: ['all host address lookups failed permanently', 'all relevant mx records point to non-existent hosts', 'unrouteable address'] },
  { reason: 'mailboxfull', phrases: ['mailbox is full', 'error: quota exceed'] },
  { reason: 'notaccept', phrases: ['an mx or srv record indicated no smtp service', 'no host found for existing smtp connection'] },
  { reason: 'syntaxerror', phrases: ['angle-brackets nested too deep', 'expected word or "<"', 'domain missing in source-routed address', 'malformed address:'] },
  { reason: 'systemerror', phrases: ['delivery to file forbidden', 'delivery to pipe forbidden', 'local delivery failed', 'lmtp error after '] },
  { reason: 'contenterror', phrases: ['too many "received" headers'] },
];

/** Exim's words for giving up after retrying (retry.c, deliver.c, smtp.c). */
const DELAYED = [
  'retry timeout exceeded', 'no action is required on your part', 'retry time not reached for any host after a long failure period',
  'all hosts have been failing for a long time and were last tried after this message arrived', 'delay reason: ', 'message has been frozen', 'was frozen on arrival by ',
];

const STAGE = /(?:smtp error from remote (?:mail server|mailer)|lmtp error) after (?:end of )?(data|rcpt|mail|helo|ehlo)/;

const EXIM_STAGES: Record<string, string> = { rcpt: 'RCPT', mail: 'MAIL', data: 'DATA', helo: 'HELO', ehlo: 'HELO' };

function readExim(input: { diagnostic: string; command: string }): LhostVerdict {
  const d = input.diagnostic;
  const stage = STAGE.exec(d)?.[1];
  const command: string | undefined = stage ? EXIM_STAGES[stage] : undefined;
  if (command === 'HELO') return { command, reason: 'blocked' };
  if (command === 'MAIL') return { command, reason: 'onhold' };
  const reason = reasonByMessages(d, EXIM_MESSAGES) ?? (saysAny(d, DELAYED) ? 'expired' : d.includes('pipe to |') ? 'mailererror' : undefined);
  return { command, reason };
}

const SUBJECTS = ['Delivery Status Notification', 'Mail delivery failed', 'Mail failure', 'Message frozen', 'Warning: message ', 'error(s) in forwarding or filtering'];

export const exim: Lhost = {
  name: 'Exim',
  detect(m) {
    if (m.from.includes('.mail.ru')) return false;
    const id = m.header('message-id').trim();
    let signs = 0;
    if (m.from.startsWith('Mail Delivery System')) signs++;
    if (id.startsWith('<') && id.indexOf('-') === 8 && id.indexOf('@') === 18) signs++;
    if (SUBJECTS.some((s) => m.subject.includes(s))) signs++;
    return signs >= 2;
  },
  read: readExim,
};

export const mailRu: Lhost = {
  name: 'MailRu',
  detect(m) {
    const from = m.from.toLowerCase();
    const id = m.header('message-id');
    let signs = 0;
    if (from.includes('mailer-daemon@') && from.includes('mail.ru')) signs++;
    if (id.includes('.mail.ru>') || id.includes('smailru.net>')) signs++;
    if (SUBJECTS.some((s) => m.subject.includes(s))) signs++;
    return signs > 2;
  },
  read: readExim,
};
