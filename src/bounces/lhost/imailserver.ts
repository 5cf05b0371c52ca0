/** Progress (Ipswitch) IMail Server: "Undeliverable Mail", X-Mailer "<SMTP32 v...". */
import type { Lhost } from './types.ts';

export const iMailServer: Lhost = {
  name: 'IMailServer',
  detect: (m) => m.subject.startsWith('Undeliverable Mail ') || m.header('x-mailer').startsWith('<SMTP32 v'),
  messages: [
    { reason: 'hostunknown', phrases: ['unknown host'] },
    { reason: 'userunknown', phrases: ['unknown user', 'invalid final delivery userid'] },
    { reason: 'mailboxfull', phrases: ['user mailbox exceeds allowed size'] },
    { reason: 'virusdetected', phrases: ['requested action not taken: virus detected'] },
    { reason: 'undefined', phrases: ['undeliverable to'] },
    { reason: 'expired', phrases: ['delivery failed '] },
  ],
};
