/** OpenSMTPD: "This is the MAILER-DAEMON, please DO NOT REPLY", one "address: error" line per recipient. */
import type { Lhost, MessageRule } from './types.ts';

export const OPENSMTPD_MESSAGES: readonly MessageRule[] = [
  { reason: 'expired', phrases: ['envelope expired'] },
  { reason: 'hostunknown', phrases: ['invalid domain name', 'domain does not exist'] },
  { reason: 'notaccept', phrases: ['destination seem to reject all mails', 'no mx found for domain', 'no mx found for destination'] },
  {
    reason: 'networkerror',
    phrases: [
      'address family mismatch on destination mxs', 'all routes to destination blocked', 'bad dns lookup error code', 'could not retrieve source address',
      'loop detected', 'network error on destination mxs', 'no valid route to remote mx', 'no valid route to destination', 'temporary failure in mx lookup',
    ],
  },
  { reason: 'securityerror', phrases: ['could not retrieve credentials'] },
];

export const opensmtpd: Lhost = {
  name: 'OpenSMTPD',
  detect: (m) => /this is the mailer-daemon, please do not reply/i.test(m.report) || m.received.some((r) => r.includes(' (OpenSMTPD) with ')),
  messages: OPENSMTPD_MESSAGES,
};
