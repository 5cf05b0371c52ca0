import { verifyToken } from '../core/signed-tokens.ts';
import type { RecipientRef } from '../tracking/index.ts';
import { header, parseMessage } from './mime.ts';

/** The local part that takes mailto unsubscribes on every return-path domain. */
export const UNSUBSCRIBE_MAILBOX = 'unsubscribe';

/**
 * The signed reference in a mailto unsubscribe: List-Unsubscribe names
 * `mailto:unsubscribe@<return-path domain>?subject=unsubscribe <token>`, so the token comes
 * back in the subject (mail programs keep it; some prefix "Re:" or add words, hence the search).
 */
export function unsubscribeRefFromMail(raw: Buffer, secret: Buffer, tenantId: string): RecipientRef | null {
  const subject = header(parseMessage(raw).headers, 'subject') ?? '';
  for (const candidate of subject.match(/[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g) ?? []) {
    const ref = verifyToken<RecipientRef>(secret, 'unsubscribe', candidate);
    // A token of another tenant is not honoured on this tenant's domain.
    if (ref && ref.t === tenantId) return ref;
  }
  return null;
}
