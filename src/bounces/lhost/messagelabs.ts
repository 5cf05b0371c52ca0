/** Broadcom (Symantec) Email Security.cloud, formerly MessageLabs: "Mail Delivery Failure" from messagelabs.com. */
import type { Lhost } from './types.ts';

export const messageLabs: Lhost = {
  name: 'MessageLabs',
  detect: (m) => Boolean(m.header('x-msg-ref')) && m.from.includes('MAILER-DAEMON@messagelabs.com') && m.subject.startsWith('Mail Delivery Failure'),
  messages: [
    { reason: 'userunknown', phrases: ['542 ', ' rejected', 'no such user'] },
    { reason: 'securityerror', phrases: ['please turn on smtp authentication in your mail client'] },
  ],
};
