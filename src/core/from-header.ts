import addressparser from 'nodemailer/lib/addressparser';
import { checkEmail } from './email.ts';
import { invalid } from './errors.ts';

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
