import { idBytes } from '../core/ids.ts';
import addressparser from 'nodemailer/lib/addressparser';
import { invalid } from '../core/errors.ts';
import type { FieldProblem } from '../core/errors.ts';
import { checkEmail } from '../subscribers/index.ts';

export interface ParsedFrom {
  address: string;
  name: string;
  domain: string;
}

/** `"Name" <user@domain>` or a bare address; the domain lower-cased, IDNs as A-labels. */
export function parseFrom(value: string, field = '/body/from'): ParsedFrom {
  const parsed = addressparser(value, { flatten: true }) as { address?: string; name?: string }[];
  if (parsed.length !== 1 || !parsed[0]?.address) throw invalid(`${field.split('/').pop()} must be one address`, [{ field, message: 'one address, optionally with a display name' }]);
  const checked = checkEmail(parsed[0].address);
  if (!checked.ok) throw invalid(`from address: ${checked.reason}`, [{ field, message: checked.reason }]);
  return { address: checked.email, name: parsed[0].name ?? '', domain: checked.email.slice(checked.email.lastIndexOf('@') + 1) };
}

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
