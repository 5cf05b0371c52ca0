/** Courier MTA: "Courier mail server at ...", "NOTICE: mail delivery status." */
import type { Lhost } from './types.ts';

export const courier: Lhost = {
  name: 'Courier',
  detect: (m) =>
    m.from.includes('Courier mail server at ') || m.subject.includes('NOTICE: mail delivery status.') || m.subject.includes('WARNING: delayed mail.') ||
    m.header('message-id').startsWith('<courier.'),
  messages: [
    { reason: 'hostunknown', phrases: ['no such domain.'] },
    { reason: 'systemerror', phrases: ["this domain's dns violates rfc 1035."] },
    { reason: 'networkerror', phrases: ['dns lookup failed.'] },
  ],
};
