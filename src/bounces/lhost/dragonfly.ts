/** DragonFly Mail Agent (dma): "Mail delivery failed", "(DragonFly Mail Agent" in Received. */
import type { Lhost } from './types.ts';

export const dragonFly: Lhost = {
  name: 'DragonFly',
  detect: (m) => m.subject.includes('Mail delivery failed') && m.received.some((r) => r.includes(' (DragonFly Mail Agent')),
  messages: [
    { reason: 'expired', phrases: ['could not deliver for the last '] },
    { reason: 'hostunknown', phrases: ['dns lookup failure: host '] },
  ],
};
