/** 1&1 (GMX's sibling): "Mail delivery failed: returning message to sender". */
import type { Lhost } from './types.ts';

export const einsUndEins: Lhost = {
  name: 'EinsUndEins',
  detect: (m) => m.from.startsWith('"Mail Delivery System"') && m.subject === 'Mail delivery failed: returning message to sender',
  messages: [{ reason: 'mesgtoobig', phrases: ['mail size limit exceeded'] }],
};
