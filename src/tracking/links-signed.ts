import { signToken } from '../core/signed-tokens.ts';
import { rewriteLinks } from './links.ts';

/** What a recipient-facing token names: tenant, address, and where the mail came from. */
export interface RecipientRef {
  /** tenant id */
  t: string;
  /** recipient address */
  e: string;
  /** list id (campaign mail) */
  l?: string;
  /** campaign id */
  c?: string;
  /** message reference */
  m?: string;
}

export function unsubscribeUrl(base: string, secret: Buffer, ref: RecipientRef): string {
  return `${base}/u/${signToken(secret, 'unsubscribe', ref)}`;
}

/**
 * Both unsubscribe targets for List-Unsubscribe: the one-click URL and, when the sending
 * domain has a return-path domain, a mailto the bounce listener honours (the signed token
 * rides in the subject: a local part cannot hold it).
 */
export function unsubscribeTargets(base: string, secret: Buffer, ref: RecipientRef, returnPathDomain: string | null): { httpsUrl: string; mailto: string | null } {
  const token = signToken(secret, 'unsubscribe', ref);
  return { httpsUrl: `${base}/u/${token}`, mailto: returnPathDomain ? `mailto:unsubscribe@${returnPathDomain}?subject=unsubscribe%20${token}` : null };
}

/** Rewrites links through the signed click redirect and appends the open pixel. */
export function addTracking(html: string, base: string, secret: Buffer, ref: RecipientRef): string {
  const tracked = rewriteLinks(html, (href) => `${base}/t/c/${signToken(secret, 'click', { ...ref, u: href })}`);
  const pixel = `<img src="${base}/t/o/${signToken(secret, 'open', ref)}.gif" width="1" height="1" alt="" style="display:none">`;
  return /<\/body>/i.test(tracked) ? tracked.replace(/<\/body>/i, `${pixel}</body>`) : tracked + pixel;
}
