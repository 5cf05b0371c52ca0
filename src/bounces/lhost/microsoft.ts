/**
 * Microsoft's writers: Microsoft 365 / Exchange Online (its own enhanced codes such as 5.4.316),
 * Outlook.com / Hotmail (two fixed sentences), Exchange Server 2003 (hex error codes) and 2007.
 */
import type { Lhost, StatusRule } from './types.ts';
import type { Reason } from '../types.ts';
import { saysAny } from './match.ts';

/** Exchange Online's own codes (5.1.351, 5.4.316, 5.7.5xx ...) and what they mean. */
export const OFFICE365_STATUSES: readonly StatusRule[] = [
  { status: '4\\.4\\.7', reason: 'expired' }, { status: '4\\.4\\.312', reason: 'networkerror' }, { status: '4\\.4\\.316', reason: 'expired' },
  { status: '4\\.7\\.26', reason: 'authfailure' }, { status: '4\\.7\\.[56]\\d\\d', reason: 'blocked' }, { status: '4\\.7\\.8[5-9]\\d', reason: 'blocked' },
  { status: '5\\.0\\.350', reason: 'contenterror' }, { status: '5\\.1\\.10', reason: 'userunknown' }, { status: '5\\.4\\.1', reason: 'norelaying' },
  { status: '5\\.4\\.6', reason: 'networkerror' }, { status: '5\\.4\\.312', reason: 'networkerror' }, { status: '5\\.4\\.316', reason: 'expired' },
  { status: '5\\.6\\.11', reason: 'contenterror' }, { status: '5\\.7\\.1', reason: 'rejected' }, { status: '5\\.7\\.1[23]', reason: 'rejected' },
  { status: '5\\.7\\.124', reason: 'rejected' }, { status: '5\\.7\\.13[3-6]', reason: 'rejected' }, { status: '5\\.7\\.23', reason: 'authfailure' },
  { status: '5\\.7\\.25', reason: 'networkerror' }, { status: '5\\.7\\.50[1-3]', reason: 'spamdetected' }, { status: '5\\.7\\.50[45]', reason: 'filtered' },
  { status: '5\\.7\\.50[67]', reason: 'blocked' }, { status: '5\\.7\\.508', reason: 'toomanyconn' }, { status: '5\\.7\\.509', reason: 'authfailure' },
  { status: '5\\.7\\.510', reason: 'notaccept' }, { status: '5\\.7\\.511', reason: 'rejected' }, { status: '5\\.7\\.512', reason: 'policyviolation' },
  { status: '5\\.7\\.57', reason: 'securityerror' }, { status: '5\\.7\\.60[6-9]', reason: 'blocked' }, { status: '5\\.7\\.6[1-4]\\d', reason: 'blocked' },
  { status: '5\\.7\\.7[0-4]\\d', reason: 'toomanyconn' },
];

const OFFICE365_HEADERS = [
  'x-ms-exchange-message-is-ndr', 'x-microsoft-antispam-prvs', 'x-exchange-antispam-report-test', 'x-exchange-antispam-report-cfa-test',
  'x-ms-exchange-crosstenant-originalarrivaltime', 'x-ms-exchange-crosstenant-fromentityheader', 'x-ms-exchange-transport-crosstenantheadersstamped',
];
const OFFICE365_HOSTS = ['.outbound.protection.outlook.com', '.prod.outlook.com'];

export const office365: Lhost = {
  name: 'Office365',
  detect(m) {
    let signs = 0;
    if (/undeliverable:|onbestelbaar:|não_entregue:/i.test(m.subject)) signs++;
    for (const h of OFFICE365_HEADERS) if (m.header(h)) signs++;
    if (m.received.some((r) => OFFICE365_HOSTS.some((h) => r.includes(h)))) signs++;
    if (OFFICE365_HOSTS.some((h) => m.header('message-id').includes(h))) signs++;
    return signs >= 2;
  },
  // "Remote server returned unknown recipient or mailbox unavailable -> 550 ..." answers RCPT TO.
  commands: [{ command: 'RCPT', phrases: ['unknown recipient or mailbox unavailable ->'] }],
  statuses: OFFICE365_STATUSES,
};

export const outlook: Lhost = {
  name: 'Outlook',
  detect(m) {
    let signs = 0;
    if (m.subject.includes('Delivery Status Notification')) signs++;
    if (m.header('x-message-delivery')) signs++;
    if (m.header('x-message-info')) signs++;
    if (m.received.some((r) => r.includes('.hotmail.com'))) signs++;
    return signs >= 2;
  },
  messages: [
    { reason: 'hostunknown', phrases: ['the mail could not be delivered to the recipient because the domain is not reachable'] },
    { reason: 'userunknown', phrases: ['requested action not taken: mailbox unavailable'] },
  ],
};

/** Exchange 2003's hexadecimal error codes in "#5.1.1 ... (000C05A6)". */
const EXCHANGE2003_CODES: readonly { reason: Reason; codes: readonly string[] }[] = [
  { reason: 'onhold', codes: ['000b099c', '000b09aa', '000b09b6'] },
  { reason: 'userunknown', codes: ['000c05a6'] },
  { reason: 'systemerror', codes: ['00010256', '000d06b5'] },
  { reason: 'networkerror', codes: ['00120270'] },
  { reason: 'contenterror', codes: ['00050311', '000502cc'] },
  { reason: 'securityerror', codes: ['000b0981'] },
  { reason: 'filtered', codes: ['000c0595'] },
];

export const exchange2003: Lhost = {
  name: 'Exchange2003',
  detect: (m) =>
    Boolean(m.header('x-ms-embedded-report')) ||
    /^(?:internet mail service \(|microsoft exchange server internet mail connector)/i.test(m.header('x-mailer')) ||
    /^produced by microsoft exchange/i.test(m.header('x-mimeole')) ||
    m.received.some((r) => r.includes(' with Internet Mail Service (')),
  read(input) {
    const code = EXCHANGE2003_CODES.find((c) => saysAny(input.diagnostic, c.codes));
    return { reason: code?.reason };
  },
};

export const exchange2007: Lhost = {
  name: 'Exchange2007',
  detect: (m) =>
    /^(?:undeliverable|non_remis_|non recapitabile)/i.test(m.subject) &&
    /^[a-z]{2}(?:-[a-z]{2})?$/i.test(m.header('content-language')) &&
    !m.header('x-ms-exchange-crosstenant-originalarrivaltime') &&
    !m.header('x-ms-exchange-crosstenant-fromentityheader'),
  // The NDR's subsystem code (RESOLVER.*, QUEUE.*, SMTPSEND.*) names the failure.
  messages: [
    { reason: 'hostunknown', phrases: ['smtpsend.dns.nonexistentdomain'] },
    { reason: 'networkerror', phrases: ['smtpsend.dns.mxloopback'] },
    { reason: 'userunknown', phrases: ['resolver.adr.recipnotfound', 'resolver.adr.exrecipnotfound'] },
    { reason: 'toomanyconn', phrases: ['resolver.adr.reciplimit'] },
    { reason: 'systemerror', phrases: ['resolver.adr.badprimary', 'resolver.adr.invalidinsmtp', 'resolver.adr.ambiguous'] },
    { reason: 'securityerror', phrases: ['resolver.rst.authrequired'] },
    { reason: 'rejected', phrases: ['resolver.rst.notauthorized'] },
    { reason: 'expired', phrases: ['queue.expired'] },
  ],
};
