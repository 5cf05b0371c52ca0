/** qmail (and notqmail, qmail-ldap): "Hi. This is the qmail-send program", its fixed sentences per stage. */
import type { CommandRule, Lhost, MessageRule } from './types.ts';
import { commandBy, commandNamed, reasonByMessages, saysAny } from './match.ts';

/** qmail-remote.c names the stage in fixed sentences. */
export const QMAIL_COMMANDS: readonly CommandRule[] = [
  { command: 'CONN', phrases: [' but greeting failed.'] },
  { command: 'HELO', phrases: [' but my name was rejected.'] },
  { command: 'MAIL', phrases: [' but sender was rejected.'] },
  { command: 'RCPT', phrases: [' does not like recipient.'] },
  { command: 'DATA', phrases: [' failed on data command', ' failed after i sent the message'] },
];

/** qmail-send, qmail-remote and qmail-local's own sentences, and qmail-ldap's. */
export const QMAIL_MESSAGES: readonly MessageRule[] = [
  { reason: 'userunknown', phrases: ['no mailbox here by that name', 'does not like recipient.'] },
  { reason: 'mailboxfull', phrases: ['disk quota exceeded'] },
  { reason: 'mesgtoobig', phrases: ['message size exceeds fixed maximum message size:'] },
  { reason: 'hostunknown', phrases: ["sorry, i couldn't find any host "] },
  { reason: 'systemfull', phrases: ['requested action not taken: mailbox unavailable (not enough free space)'] },
  { reason: 'notaccept', phrases: ["sorry, i couldn't find a mail exchanger or ip address"] },
  { reason: 'networkerror', phrases: ["sorry, i wasn't able to establish an smtp connection", "sorry. although i'm listed as a best-preference mx or a for that host"] },
  // qmail-ldap
  { reason: 'suspend', phrases: ['mailaddress is administratively disabled', 'mailaddress is administrativley disabled'] },
  { reason: 'exceedlimit', phrases: ['the message exeeded the maximum size the user accepts'] },
  {
    reason: 'systemerror',
    phrases: [
      'bad interpreter: no such file or directory', 'system error', 'unable to', 'automatic homedir creator crashed', 'illegal value in ldap attribute',
      'ldap attribute is not given but mandatory', 'timeout while performing search on ldap server', 'too many results returned but needs to be unique',
      'permanent error while executing qmail-forward', 'temporary error in automatic homedir creation', 'temporary error while executing qmail-forward',
      'temporary failure in ldap lookup', 'unable to contact ldap server', 'unable to login into ldap server, bad credentials',
    ],
  },
];

const MOST_PROGRESS = 'no smtp connection got far enough; most progress was ';

export const qmail: Lhost = {
  name: 'qmail',
  detect: (m) => /hi\. this is the qmail/i.test(m.report) || (/^failure notice/i.test(m.subject) && m.received.some((r) => /\(qmail \d+ invoked (?:for bounce|from network)\)/i.test(r))),
  read(input) {
    const d = input.diagnostic;
    let command = commandBy(d, QMAIL_COMMANDS) ?? '';
    const progress = d.indexOf(MOST_PROGRESS);
    if (!command && progress >= 0) command = commandNamed(d.slice(progress + MOST_PROGRESS.length, progress + MOST_PROGRESS.length + 20));
    if (command === 'HELO') return { command, reason: 'blocked' };
    // Both "does not like recipient" and "too long in the queue": the words decide, not the table.
    if (saysAny(d, [' does not like recipient.']) && saysAny(d, ['this message has been in the queue too long.'])) return { command, reason: 'onhold' };
    const reason = reasonByMessages(d, QMAIL_MESSAGES) ?? (d.includes('this message has been in the queue too long.') ? 'expired' : undefined);
    return { command: command || undefined, reason };
  },
};
