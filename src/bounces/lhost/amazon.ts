/**
 * Amazon's writers that send mail-form reports: SES (X-SES-Outgoing / X-AWS-Outgoing), SES
 * receiving, and WorkMail. SES wraps the remote reply in quotes after its own generic code
 * ("5.1.0 - Unknown address error 550-'5.7.1 ...'"): the quoted code is the one that counts.
 */
import type { Lhost, LhostInput, LhostVerdict, MessageRule } from './types.ts';
import { reasonByMessages } from './match.ts';
import { findStatus } from '../reason.ts';
import { STATUS_NAMES } from '../rules.ts';

/** The status of the reply SES quotes, when its own code is a generic x.0.0 or x.1.0. */
function quotedStatus(input: LhostInput): string | undefined {
  if (!/^\d\.[01]\.0$/.test(input.status)) return undefined;
  const d = input.diagnostic;
  const open = d.search(/-['"]/);
  const close = Math.max(d.lastIndexOf("' "), d.lastIndexOf('" '));
  const quoted = open >= 0 && close > open ? d.slice(open + 2, close) : d;
  const found = findStatus(quoted);
  return found && found !== input.status ? found : undefined;
}

function readSes(input: LhostInput, messages: readonly MessageRule[]): LhostVerdict {
  return { status: quotedStatus(input), reason: reasonByMessages(input.diagnostic, messages) };
}

const WORKMAIL = (m: { header(n: string): string }) => (m.header('x-original-mailer') || m.header('x-mailer')) === 'Amazon WorkMail';

export const amazonWorkMail: Lhost = {
  name: 'AmazonWorkMail',
  detect(m) {
    let signs = 0;
    if (m.header('x-ses-outgoing')) signs++;
    if (WORKMAIL(m)) signs++;
    return signs >= 2;
  },
  // WorkMail reports a specific status for each recipient; the status names the reason.
  read: (input) => ({ reason: STATUS_NAMES[input.status] }),
};

export const amazonSes: Lhost = {
  name: 'AmazonSES',
  detect: (m) => !WORKMAIL(m) && Boolean(m.header('x-aws-outgoing') || m.header('x-ses-outgoing')),
  read: (input) => readSes(input, [{ reason: 'expired', phrases: ['delivery expired'] }]),
};

export const receivingSes: Lhost = {
  name: 'ReceivingSES',
  detect: (m) => Boolean(m.header('x-ses-outgoing')) && !WORKMAIL(m) && m.report.includes('This message could not be delivered.'),
  read: (input) =>
    readSes(input, [
      { reason: 'filtered', phrases: ['mailbox does not exist'] },
      { reason: 'mesgtoobig', phrases: ['message too large'] },
      { reason: 'mailboxfull', phrases: ['mailbox full'] },
    ]),
};
