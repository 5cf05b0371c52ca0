/**
 * Google's writers: Gmail's old "Delivery to the following recipient failed permanently" with
 * its "(state N)" numbers, Google Workspace's "** Address not found **" reports, and Google Groups.
 */
import type { Lhost, LhostVerdict } from './types.ts';
import type { Reason } from '../types.ts';
import { reasonByMessages } from './match.ts';
import { STATUS_NAMES } from '../rules.ts';

/** Gmail's "(state N)": the stage of its own SMTP client that failed. */
const GMAIL_STATES: Record<string, { command: string; reason: Reason }> = {
  '6': { command: 'MAIL', reason: 'systemerror' },
  '8': { command: 'HELO', reason: 'systemerror' },
  '9': { command: 'HELO', reason: 'systemerror' },
  '12': { command: 'HELO', reason: 'norelaying' },
  '13': { command: 'HELO', reason: 'blocked' },
  '14': { command: 'RCPT', reason: 'userunknown' },
  '15': { command: 'DATA', reason: 'filtered' },
  '17': { command: 'DATA', reason: 'filtered' },
  '18': { command: 'DATA', reason: 'filtered' },
};

const fromGoogle = (from: string) => from.toLowerCase().includes('<mailer-daemon@googlemail.com>');

export const gmail: Lhost = {
  name: 'Gmail',
  // Gmail's own layout (not the RFC 3464 reports Google sends today) starts with this sentence.
  detect: (m) => fromGoogle(m.from) && m.subject.includes('Delivery Status Notification') && /^delivery to the following recipient/im.test(m.report),
  read(input): LhostVerdict {
    const state = /\(state (\d+)\)\.?\s*$/.exec(input.diagnostic)?.[1] ?? /\(state (\d+)\)/.exec(input.diagnostic)?.[1];
    let verdict: LhostVerdict = {};
    if (state && GMAIL_STATES[state]) verdict = { ...GMAIL_STATES[state] };
    else {
      const reason = reasonByMessages(input.diagnostic, [
        { reason: 'expired', phrases: ['dns error: could not contact dns servers', 'delivery to the following recipient has been delayed', 'the recipient server did not accept our requests to connect'] },
        { reason: 'hostunknown', phrases: ['dns error: domain name not found', 'dns error: dns server returned answer with no data'] },
      ]);
      if (reason) verdict = { reason };
    }
    // A specific status code in the reply says more than the stage does.
    if (verdict.reason && input.status && !/\.0(?:\.|$)/.test(input.status.slice(1))) {
      const named = STATUS_NAMES[input.status];
      if (named) verdict.reason = named;
    }
    return verdict;
  },
};

export const gsuite: Lhost = {
  name: 'GSuite',
  detect: (m) => fromGoogle(m.from) && m.subject.includes('Delivery Status Notification') && Boolean(m.header('x-gm-message-state')),
  messages: [
    { reason: 'userunknown', phrases: ["because the address couldn't be found. check for typos or unnecessary spaces and try again."] },
    { reason: 'notaccept', phrases: ['null mx'] },
    { reason: 'networkerror', phrases: [' had no relevant answers.', ' responded with code nxdomain'] },
  ],
};

export const googleGroups: Lhost = {
  name: 'GoogleGroups',
  detect: (m) => fromGoogle(m.from) && m.subject.includes('Delivery Status Notification') && Boolean(m.header('x-failed-recipients')) && Boolean(m.header('x-google-smtp-source')),
  // The four "* ..." lines of "the group may not exist, or you may not have permission to post"
  // say the group refused the sender; any other report is left to the words.
  read: (_input, mail) => ({ reason: (mail.report.match(/^ ?\* ?/gm) ?? []).length === 4 ? 'rejected' : 'onhold' }),
};
