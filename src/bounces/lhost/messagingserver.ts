/** Oracle (Sun) Messaging Server: "Delivery Notification: ...", "Boundary_(ID_...". */
import type { Lhost } from './types.ts';

export const messagingServer: Lhost = {
  name: 'MessagingServer',
  detect: (m) => m.header('content-type').includes('Boundary_(ID_') || m.subject.startsWith('Delivery Notification: '),
  messages: [{ reason: 'hostunknown', phrases: ['illegal host/domain name found'] }],
};
