/**
 * Address validation for lists: strict enough to catch what real files hold (spaces, missing
 * @, doubled dots, a name instead of an address) and permissive for what real mail accepts
 * (plus tags, internationalised domains and local parts). Addresses are lower-cased: every
 * mailbox provider a bank mails treats local parts case-insensitively, and de-duplication
 * must see Zhang@x and zhang@x as one person.
 */
const LOCAL = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

export type EmailCheck = { ok: true; email: string } | { ok: false; reason: string };

export function checkEmail(raw: string): EmailCheck {
  const email = raw.trim().toLowerCase();
  if (!email) return { ok: false, reason: 'email is empty' };
  if (email.length > 254) return { ok: false, reason: 'email is longer than 254 characters' };
  const at = email.lastIndexOf('@');
  if (at < 0) return { ok: false, reason: `"${raw.trim()}" has no @` };
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (!local || local.length > 64 || !LOCAL.test(local)) return { ok: false, reason: `"${raw.trim()}" has an invalid part before the @` };
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !/^\p{L}{2,}$|^xn--[a-z0-9-]+$/u.test(labels[labels.length - 1]!)) {
    return { ok: false, reason: `"${raw.trim()}" has an invalid domain` };
  }
  return { ok: true, email };
}
