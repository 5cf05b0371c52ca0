/** GMX and web.de (X-GMX-Antispam): Exim-like reports with a retry sentence of their own. */
import type { Lhost } from './types.ts';

export const gmx: Lhost = {
  name: 'GMX',
  detect: (m) => Boolean(m.header('x-gmx-antispam')),
  messages: [{ reason: 'expired', phrases: ['delivery retry timeout exceeded'] }],
};
