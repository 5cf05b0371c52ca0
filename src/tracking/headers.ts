import { invalid } from '../core/errors.ts';

/**
 * List-Unsubscribe with an https one-click URL and a mailto, and List-Unsubscribe-Post for
 * RFC 8058 one-click. Both headers must be covered by the DKIM signature (the delivery
 * engine's signer includes them) or mailbox providers ignore one-click.
 */
export function unsubscribeHeaders(opts: { httpsUrl: string; mailto?: string | null }): Record<string, string> {
  let url: URL;
  try {
    url = new URL(opts.httpsUrl);
  } catch {
    throw invalid('unsubscribe URL is not a URL', [{ field: 'httpsUrl', message: 'not a URL' }]);
  }
  // RFC 8058 requires https for one-click; http is allowed only for loopback test setups.
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw invalid('one-click unsubscribe needs an https URL', [{ field: 'httpsUrl', message: 'must be https' }]);
  }
  const entries = [`<${url.href}>`];
  if (opts.mailto) {
    const mailto = opts.mailto.startsWith('mailto:') ? opts.mailto : `mailto:${opts.mailto}`;
    if (/[\s<>,]/.test(mailto) || !mailto.includes('@')) throw invalid('unsubscribe mailto is not an address', [{ field: 'mailto', message: 'not an address' }]);
    entries.push(`<${mailto}>`);
  }
  return {
    'List-Unsubscribe': entries.join(', '),
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}
