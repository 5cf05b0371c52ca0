/** AOL's own MTA (X-AOL-IP): a Postfix-like report with two sentences of its own. */
import type { Lhost } from './types.ts';

export const aol: Lhost = {
  name: 'Aol',
  detect: (m) => Boolean(m.header('x-aol-ip')),
  messages: [
    { reason: 'hostunknown', phrases: ['host or domain name not found'] },
    { reason: 'notaccept', phrases: ['type=mx: malformed or unexpected name server reply'] },
  ],
};
