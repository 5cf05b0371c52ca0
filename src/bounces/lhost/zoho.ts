/** Zoho Mail: "[Status: Error, Address: <x>, ResponseCode 421, , Host not reachable.]" or "x ERROR_CODE :550, ...". */
import type { Lhost } from './types.ts';

export const zoho: Lhost = {
  name: 'Zoho',
  detect: (m) => Boolean(m.header('x-zohomail')),
  diagnostic(report, recipient) {
    for (const line of report.split('\n')) {
      const l = line.toLowerCase();
      if (!l.includes(recipient)) continue;
      if (l.startsWith('[status: ') || l.includes('error_code :')) return line.trim();
    }
    return '';
  },
  messages: [{ reason: 'expired', phrases: ['host not reachable'] }],
};
