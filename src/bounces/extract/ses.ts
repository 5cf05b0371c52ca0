/**
 * Amazon SES notifications delivered by e-mail (SNS → e-mail subscription): a JSON document
 * with notificationType Bounce, Complaint or Delivery instead of a DSN.
 */
import type { Finding } from '../types.ts';

interface SesRecipient {
  emailAddress?: unknown;
  status?: unknown;
  action?: unknown;
  diagnosticCode?: unknown;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Pulls the first JSON object out of a text body (SNS may wrap it in an envelope with a "Message" string). */
function parseJsonObject(text: string): Record<string, unknown> | null {
  // Notifications are often hard-wrapped by the mailer, in the middle of strings too.
  text = text.replace(/\r?\n/g, '');
  const start = text.indexOf('{');
  if (start < 0) return null;
  const end = balancedEnd(text, start);
  if (end < 0) return null;
  try {
    const value: unknown = JSON.parse(text.slice(start, end + 1));
    if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      if (typeof obj.Message === 'string' && !obj.notificationType) return parseJsonObject(obj.Message);
      return obj;
    }
  } catch {
    return null;
  }
  return null;
}

/** Index of the brace closing the object opened at `start`, honouring strings; -1 when unbalanced. */
function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** SES sub-types that say more than the (often absent) diagnostic text. */
const SUBTYPE_DIAGNOSTIC: Record<string, string> = {
  NoEmail: 'no such user', MailboxFull: 'mailbox full', MessageTooLarge: 'message too large', ContentRejected: 'content rejected',
  AttachmentRejected: 'attachment not allowed', Suppressed: 'address on suppression list', OnAccountSuppressionList: 'address on suppression list',
};

export function readSesNotification(text: string): { kind: 'bounce' | 'complaint' | 'delivery'; findings: Finding[] } | null {
  if (!text.includes('notificationType') && !text.includes('eventType')) return null;
  const doc = parseJsonObject(text);
  if (!doc) return null;
  const type = str(doc.notificationType) || str(doc.eventType);
  const base = (recipient: string): Finding => ({ recipient, status: '', replyCode: '', action: '', diagnostic: '', context: '', remoteHost: '', command: '', diagnosticType: '' });
  if (type === 'Bounce') {
    const bounce = (doc.bounce ?? {}) as Record<string, unknown>;
    const list = Array.isArray(bounce.bouncedRecipients) ? (bounce.bouncedRecipients as SesRecipient[]) : [];
    const subtype = str(bounce.bounceSubType);
    const permanent = str(bounce.bounceType) === 'Permanent';
    return {
      kind: 'bounce',
      findings: list.map((r) => {
        const diag = str(r.diagnosticCode);
        return {
          ...base(str(r.emailAddress).toLowerCase()),
          status: str(r.status),
          action: str(r.action).toLowerCase() || (permanent ? 'failed' : 'delayed'),
          diagnostic: diag.replace(/^smtp;\s*/i, ''),
          context: SUBTYPE_DIAGNOSTIC[subtype] ?? '',
          replyCode: (/\b([245]\d\d)\b/.exec(diag)?.[1]) ?? '',
          remoteHost: str(bounce.remoteMtaIp),
        };
      }),
    };
  }
  if (type === 'Complaint') {
    const c = (doc.complaint ?? {}) as Record<string, unknown>;
    const list = Array.isArray(c.complainedRecipients) ? (c.complainedRecipients as SesRecipient[]) : [];
    return { kind: 'complaint', findings: list.map((r) => ({ ...base(str(r.emailAddress).toLowerCase()), preset: 'feedback' as const })) };
  }
  if (type === 'Delivery') {
    const d = (doc.delivery ?? {}) as Record<string, unknown>;
    const list = Array.isArray(d.recipients) ? d.recipients.map(str) : [];
    const smtp = str(d.smtpResponse);
    return {
      kind: 'delivery',
      findings: list.map((r) => ({ ...base(r.toLowerCase()), action: 'delivered', diagnostic: smtp, replyCode: (/\b([245]\d\d)\b/.exec(smtp)?.[1]) ?? '', remoteHost: str(d.remoteMtaIp) })),
    };
  }
  return null;
}
