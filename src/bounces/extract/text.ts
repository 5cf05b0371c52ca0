/**
 * The human-readable part of a bounce: where non-standard MTAs (qmail, Exim without DSN,
 * Exchange 2003, Gmail, Yahoo, mobile carriers, ...) say which recipients failed and why.
 * Instead of one parser per MTA, this finds the report text, cuts off the returned original,
 * spots the failed addresses and hands each one the text that follows it.
 */
import { decodeCharset, decodeTransfer, walk } from '../mime.ts';
import type { MimePart } from '../mime.ts';
import { addressPositions, isRobot } from './addresses.ts';

/** Lines that start the returned original message in single-part bounces. */
const ORIGINAL_MARKERS: RegExp[] = [
  /^[ \t>]*-{2,}\s*(?:original message|below this line is a copy of the message|this is a copy of (?:the|your) message|the header of the original message|message headers follow|original message (?:header|follows)|unsent message|returned message|undelivered message|copy of (?:the )?message)[^\n]*$/im,
  /^[ \t]*(?:-+ ?)?(?:original message follows|the original message (?:was|is)(?! received at)|returned mail follows|unsent message below|message text follows|below is a copy of the (?:original )?message|included is a copy|a copy of the original message below|message headers follow|headers of your message follow|original message headers|---- ?start of (?:returned|original) message|original mail as follows:?)[^\n]*$/im,
  /^[ \t]*content-type:\s*message\/(?:rfc822|global)/im,
  /^[ \t]*-{3,} ?(?:the following|this) is (?:a|the) (?:original|returned)[^\n]*$/im,
];

/** A run of three header lines: the returned message's header block (when it has a real message's headers). */
const HEADER_BLOCK = /^(?:return-path|received|dkim-signature|x-received|arc-seal|message-id|from|date|subject|to|mime-version|delivered-to)\s*:[^\n]*\n(?:[ \t][^\n]*\n)*(?:[\w-]+\s*:[^\n]*\n(?:[ \t][^\n]*\n)*){2}/gim;
/** Headers only a message carries; a bounce's own "To: / Subject: / Sent:" summary has none of them. */
const MESSAGE_HEADER = /^(?:return-path|received|dkim-signature|x-received|arc-seal|message-id|from|mime-version|delivered-to|content-type)\s*:/im;

function headerBlockStart(text: string): number {
  HEADER_BLOCK.lastIndex = 0;
  for (const m of text.matchAll(HEADER_BLOCK)) {
    const blockEnd = text.indexOf('\n\n', m.index);
    const block = text.slice(m.index, blockEnd < 0 ? text.length : blockEnd);
    if (m.index > 0 && MESSAGE_HEADER.test(block)) return m.index;
  }
  return -1;
}

export function cutOriginal(text: string): { report: string; original: string } {
  let cut = text.length;
  for (const re of ORIGINAL_MARKERS) {
    const m = re.exec(text);
    if (m && m.index < cut && m.index > 0) cut = m.index;
  }
  const h = headerBlockStart(text);
  if (h > 0 && h < cut) cut = h;
  return { report: text.slice(0, cut), original: text.slice(cut) };
}

function stripHtml(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(?:p|div|tr|li|h\d)>/gi, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#39;|&apos;/gi, "'")
    .replace(/&amp;/gi, '&');
}

const MAX_REPORT = 256 * 1024;

const REPORT_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status', 'message/feedback-report', 'message/disposition-notification']);

/**
 * The report's own text (not the returned original): text parts outside enclosed messages,
 * HTML only where a part has no plain alternative.
 */
export function reportText(root: MimePart): { report: string; inlineOriginal: string } {
  const leaves = walk(root).filter((p) => p.children.length === 0 && !p.enclosed && !REPORT_TYPES.has(p.type));
  const plain = leaves.filter((p) => p.type === 'text/plain' || p.type === 'text' || (p === root && !p.type.startsWith('multipart/')));
  const html = leaves.filter((p) => p.type === 'text/html');
  const chosen = plain.length > 0 ? plain : html;
  const texts = chosen.map((p) => {
    const t = decodeCharset(decodeTransfer(p), p.params.charset);
    return p.type === 'text/html' ? stripHtml(t) : t;
  });
  // Human-readable reports are a few kilobytes; a runaway part is read only as far as it matters.
  const joined = texts.join('\n').slice(0, MAX_REPORT).replace(/\r\n?/g, '\n');
  if (root.children.length > 0 && root.children.some((c) => c.enclosed)) return { report: joined, inlineOriginal: '' };
  const { report, original } = cutOriginal(joined);
  return { report, inlineOriginal: original };
}

/** Lines that quote the original's headers or are plainly about the sender rather than the recipient. */
const IGNORE_LINE = /^[ \t>]*(?:from|to|cc|reply-to|sender|return-path|subject|sent|date|message-id|received|envelope-from|x-[\w-]+|in-reply-to|references|list-[\w-]+|dkim-signature)\s*:/i;

/**
 * Where the line holding `index` starts, looking back at most `limit` characters: a report that
 * is one enormous line must not make every lookup scan back to its beginning.
 */
function lineStartOf(text: string, index: number, limit = 1000): number {
  const floor = Math.max(0, index - limit);
  for (let i = index - 1; i >= floor; i--) if (text.charCodeAt(i) === 10) return i + 1;
  return floor;
}

function lineAt(text: string, index: number): string {
  const start = lineStartOf(text, index);
  const ceiling = Math.min(text.length, index + 1000);
  let end = index;
  while (end < ceiling && text.charCodeAt(end) !== 10) end++;
  return text.slice(start, end);
}

export interface TextRecipient {
  address: string;
  /** The report text that belongs to this recipient: from each of its mentions up to the next other recipient. */
  block: string;
}

/**
 * Failed recipients named in the report text, in order of first mention. `exclude` holds the
 * sender's own addresses (the bounce's To, the original's From), which reports also mention.
 */
export function recipientsInText(report: string, exclude: Set<string>): TextRecipient[] {
  // A report naming thousands of addresses is not a bounce to read line by line; the first
  // few thousand mentions are plenty and keep the work bounded.
  const positions = addressPositions(report).slice(0, 5000).filter((p) => {
    if (exclude.has(p.address) || isRobot(p.address)) return false;
    const line = lineAt(report, p.index);
    if (IGNORE_LINE.test(line)) return false;
    // Addresses inside URLs (help pages, unsubscribe links) are not recipients.
    const before = report.slice(Math.max(0, p.index - 200), p.index);
    if (/https?:\/\/\S*$/i.test(before) || /mailto:$/i.test(before)) return false;
    // Message-IDs look like addresses; they sit inside <...> right after "id" or have no dot on the left.
    if (/message-?id\W{0,3}<?$/i.test(before)) return false;
    // "(generated from x)" names the alias that led to the recipient, not another recipient.
    if (/(?:generated|expanded) (?:from|by)\s*<?$/i.test(before)) return false;
    // Help desks the report points to: "please contact <x>", "<x> へご連絡ください".
    if (/(?:contact|send (?:e-?mail|mail|a message) to|write to|reach us at|questions? to|e-?mail us at)\s*(?:us at\s*)?<?$/i.test(before)) return false;
    const after = report.slice(p.index + p.address.length, p.index + p.address.length + 12);
    if (/^>?\s*(?:へ|まで|にご連絡|にお問い合わせ)/.test(after)) return false;
    return true;
  });
  // The report is cut into consecutive segments, one per mention (from the mention's line up to
  // the line of the next mention of a different address); an address's block is its segments.
  // Linear in the report's length however many times an address is mentioned.
  const blocks = new Map<string, string[]>();
  let lengthOf = new Map<string, number>();
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i] as { address: string; index: number };
    const prev = positions[i - 1];
    if (prev && prev.address === p.address) continue;
    let j = i + 1;
    while (j < positions.length && (positions[j] as { address: string }).address === p.address) j++;
    const q = positions[j];
    let next = report.length;
    if (q) {
      next = lineStartOf(report, q.index);
      if (next <= p.index) next = q.index;
    }
    const lineStart = lineStartOf(report, p.index);
    const used = lengthOf.get(p.address) ?? 0;
    if (used >= MAX_BLOCK) continue;
    const segment = report.slice(lineStart, Math.min(next, lineStart + MAX_BLOCK - used));
    blocks.set(p.address, [...(blocks.get(p.address) ?? []), segment]);
    lengthOf = lengthOf.set(p.address, used + segment.length);
  }
  return [...blocks].map(([address, segments]) => ({ address, block: segments.join('\n') + '\n' }));
}

/** Longest text kept per recipient: diagnostics are short; the rest is boilerplate or a runaway report. */
const MAX_BLOCK = 8000;

/** The SMTP command a failure answered, as reported in the text. */
export function commandIn(text: string): string {
  const transcript = commandInTranscript(text);
  if (transcript) return transcript;
  const m =
    /in reply to (rcpt to|mail from|end of data|data|helo|ehlo|lhlo)\b/i.exec(text) ??
    /(?:smtp error from remote (?:mail )?server|failed) after (rcpt to|mail from|end of data|data|helo|ehlo|initial connection|pipelined (?:mail from|rcpt to))/i.exec(text) ??
    /did not like our (rcpt to|mail from|final data|data|helo|ehlo)/i.exec(text) ??
    /\[(rcpt_to|mail_from|data|end_of_data|helo|ehlo|connect)\]/i.exec(text) ??
    /\b(?:in|after) (rcpt|mail|data|helo|ehlo) command\b/i.exec(text) ??
    />>> (rcpt to|mail from|data|helo|ehlo)\b/i.exec(text) ??
    // qmail names the stage in fixed sentences.
    /does not like (recipient)\b/i.exec(text) ??
    /but (sender) was rejected/i.exec(text) ??
    /but my (name) was rejected/i.exec(text) ??
    /failed on (data) command/i.exec(text) ??
    /smtp command:?\s*(rcpt to|mail from|data|helo|ehlo)\b/i.exec(text);
  if (!m?.[1]) return '';
  const c = m[1].toLowerCase();
  if (c.includes('rcpt') || c === 'recipient') return 'RCPT';
  if (c.includes('mail') || c === 'sender') return 'MAIL';
  if (c === 'name') return 'HELO';
  if (c.includes('data')) return 'DATA';
  if (c.includes('helo') || c.includes('ehlo') || c.includes('lhlo')) return 'HELO';
  if (c.includes('connect')) return 'CONN';
  return '';
}

/**
 * Sendmail-style session transcripts (">>> RCPT To:<x>" then "<<< 550 ..."): the failing command
 * is the last one sent before the first 4xx/5xx answer, not any command mentioned later.
 */
function commandInTranscript(text: string): string {
  if (!text.includes('>>> ')) return '';
  let last = '';
  for (const line of text.split('\n')) {
    const sent = /^\s*>>>\s*(rcpt|mail|data|helo|ehlo|\.)/i.exec(line);
    if (sent?.[1]) {
      const c = sent[1].toLowerCase();
      last = c === 'rcpt' ? 'RCPT' : c === 'mail' ? 'MAIL' : c === 'data' || c === '.' ? 'DATA' : 'HELO';
      continue;
    }
    if (/^\s*<<<\s*[45]\d\d/.test(line) && last) return last;
  }
  return '';
}

/**
 * The remote server's own answer in a Sendmail-style transcript (the "<<< 4xx/5xx" lines after
 * the command it refused), or ''. The local MTA's summary line after it ("554 ... Service
 * unavailable", "Remote protocol error") only restates it in general terms.
 */
export function transcriptReply(text: string): string {
  if (!text.includes('<<<')) return '';
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*<<<\s*([45]\d\d[ -].*)$/.exec(line);
    if (m?.[1]) lines.push(m[1].trim());
    else if (lines.length > 0) break;
  }
  return lines.join('\n');
}

/** The remote host the report says answered, when it says. */
export function remoteHostIn(text: string): string {
  const m =
    /\bhost\s+([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\.?\s*\[[0-9a-f.:]+\]/i.exec(text) ??
    /\b(?:remote (?:host|server)|mx|server)\s*(?:said|is|:)?\s*\(?([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\b/i.exec(text) ??
    /(?<![a-z0-9.-])([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\.?\s*\[[0-9.]+\]/i.exec(text);
  return m?.[1]?.toLowerCase() ?? '';
}
