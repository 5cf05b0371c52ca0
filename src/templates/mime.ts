import MailComposer from 'nodemailer/lib/mail-composer';
import { invalid } from '../core/errors.ts';

export interface MimeParts {
  from: string;
  to: string;
  subject: string;
  html: string | null;
  text: string;
  headers?: Record<string, string>;
  attachments?: { filename: string; contentType?: string; content: Buffer }[];
  messageId?: string;
}

/**
 * The complete RFC 5322 message. MailComposer encodes non-ASCII subjects and display names
 * as RFC 2047 encoded-words, writes bodies in UTF-8 and picks quoted-printable or base64 by
 * content. It never reads files or URLs here: attachments arrive as bytes.
 */
export function buildMime(parts: MimeParts): Promise<Buffer> {
  const headers = parts.headers ?? {};
  const bad = Object.entries(headers).filter(([k, v]) => !/^[\x21-\x39\x3b-\x7e]+$/.test(k) || /[\r\n]/.test(v));
  if (bad.length) {
    throw invalid('header names must be printable ASCII without colons and values must be one line', bad.map(([k]) => ({ field: `headers.${k}`, message: 'invalid header' })));
  }
  const composer = new MailComposer({
    from: parts.from,
    to: parts.to,
    subject: parts.subject,
    text: parts.text,
    ...(parts.html !== null ? { html: parts.html } : {}),
    headers,
    ...(parts.messageId ? { messageId: parts.messageId } : {}),
    attachments: (parts.attachments ?? []).map((a) => ({ filename: a.filename, content: a.content, ...(a.contentType ? { contentType: a.contentType } : {}) })),
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}
