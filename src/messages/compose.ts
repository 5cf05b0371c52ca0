import { idBytes } from '../core/ids.ts';

import type { FieldProblem } from '../core/errors.ts';
import { checkEmail } from '../core/email.ts';

export { parseFrom } from '../core/from-header.ts';
export type { ParsedFrom } from '../core/from-header.ts';

/** A Message-ID on the sender's own domain, unique without coordination between nodes. */
export function newMessageIdHeader(domain: string, now = Date.now()): string {
  return `<${now.toString(36)}.${idBytes(9).toString('base64url')}@${domain}>`;
}

/** Checks every recipient address; collects every problem so one response names them all. */
export function checkRecipients(recipients: { email: string }[]): { emails: string[]; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const emails = recipients.map((r, i) => {
    const c = checkEmail(r.email);
    if (!c.ok) {
      problems.push({ field: `/body/recipients/${i}/email`, message: `recipient ${i}: ${c.reason}` });
      return '';
    }
    return c.email;
  });
  return { emails, problems };
}
