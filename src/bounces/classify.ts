/**
 * The bounce classifier: raw message in, one classified entry per failed (or complaining, or
 * auto-replying) recipient out. Extraction finds recipients and what was said about each;
 * `decideReason` in reason.ts turns that into Sisimai's vocabulary with the rules in rules.ts.
 */
import { header, headerAll, parseHeaders, parseMessage, partText, walk } from './mime.ts';
import type { MimePart } from './mime.ts';
import { decideReason, detectGateway, findReplyCode, findStatus, isHardBounce, normaliseStatus, preferStatus, pseudoStatus } from './reason.ts';
import { findFeedbackPart, readFeedback, readMicrosoftComplaint } from './extract/arf.ts';
import { autoReplyRecipient, isAutoReply } from './extract/autoreply.ts';
import { addressesIn } from './extract/addresses.ts';
import { looksLikeDeliveryStatus, parseDeliveryStatus } from './extract/dsn.ts';
import type { DsnRecipient, DsnReport } from './extract/dsn.ts';
import { readSesNotification } from './extract/ses.ts';
import { commandIn, recipientsInText, remoteHostIn, reportText, transcriptReply } from './extract/text.ts';
import type { BounceReport, ClassifiedRecipient, Finding, MessageKind } from './types.ts';
import { detectLhost, readByLhost } from './lhost/index.ts';
import type { BounceMail, Lhost } from './lhost/index.ts';

const DSN_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const MAX_BLOCK = 4000;

function blank(recipient: string): Finding {
  return { recipient, status: '', replyCode: '', action: '', diagnostic: '', context: '', remoteHost: '', command: '', diagnosticType: '' };
}

function finish(f: Finding): ClassifiedRecipient {
  const reason = decideReason(f);
  let status = normaliseStatus(f.status);
  const replyCode = f.replyCode;
  if (reason === 'feedback' || reason === 'vacation') status = '';
  else if (!status) {
    const temporary = f.action === 'delayed' || replyCode.startsWith('4');
    status = pseudoStatus(reason, temporary);
  }
  return {
    recipient: f.recipient,
    status,
    replyCode: reason === 'feedback' || reason === 'vacation' ? '' : replyCode,
    reason,
    hardBounce: isHardBounce(reason, status, replyCode),
    action: f.action,
    diagnostic: f.diagnostic.replace(/\s+/g, ' ').trim(),
    remoteHost: f.remoteHost,
  };
}

/** The returned original message: an enclosed part, or the headers quoted after the report text. */
function findOriginal(root: MimePart, inlineOriginal: string): MimePart | null {
  const enclosed = walk(root).find((p) => p.enclosed)?.enclosed;
  if (enclosed) return enclosed;
  if (!inlineOriginal) return null;
  // Skip the marker line and any blank or quoting lines before the header block.
  const start = inlineOriginal.search(/^[\w-]+\s*:\s*\S/m);
  if (start < 0) return null;
  return parseMessage(inlineOriginal.slice(start).replace(/^[ \t]*>[ \t]?/gm, ''));
}

function describeOriginal(original: MimePart | null): BounceReport['original'] {
  if (!original || original.headers.fields.size === 0) return null;
  const h = original.headers;
  return {
    messageId: header(h, 'message-id')?.trim() ?? null,
    from: addressesIn(header(h, 'from') ?? '')[0] ?? null,
    to: addressesIn(headerAll(h, 'to').join(', ')),
    subject: header(h, 'subject') ?? null,
    headers: h.fields,
  };
}

/** Addresses that belong to the sender side: reports mention them but they never failed. */
function senderAddresses(root: MimePart, original: MimePart | null): Set<string> {
  const names = ['to', 'delivered-to', 'x-original-to', 'envelope-to', 'return-path', 'reply-to'];
  const out = new Set<string>();
  for (const n of names) for (const v of headerAll(root.headers, n)) for (const a of addressesIn(v)) out.add(a);
  if (original) for (const n of ['from', 'sender', 'return-path', 'reply-to']) for (const v of headerAll(original.headers, n)) for (const a of addressesIn(v)) out.add(a);
  return out;
}

function fromDsn(r: DsnRecipient, blocks: Map<string, string>, report: string, reportingMta: string): Finding {
  const recipient = (r.finalRecipient.includes('@') ? r.finalRecipient : r.originalRecipient || r.finalRecipient).toLowerCase();
  const block = blocks.get(recipient) ?? '';
  // Sendmail keeps only the first line of a multi-line reply ("550-5.7.1 ..."); the rest is in the transcript.
  const truncated = /^\s*[245]\d\d-/.test(r.diagnostic);
  const diagnostic = (truncated ? `${r.diagnostic}\n${block}` : r.diagnostic || block).slice(0, MAX_BLOCK);
  const reported = normaliseStatus(r.status);
  // Without a Diagnostic-Code the report text about this recipient quotes the reply (OpenSMTPD).
  const inText = findStatus(r.diagnostic) || (r.diagnostic.trim() ? '' : findStatus(block));
  // A generic x.0.0 in the DSN says less than the code the remote server gave in its reply, and
  // so does 4.4.7 (Sendmail's "delivery time expired" for whatever kept it deferred).
  const replyCode = findReplyCode(r.diagnostic) || findReplyCode(block);
  const status = reported ? preferStatus(reported, inText) : inText || findStatus(block);
  return {
    recipient,
    status,
    replyCode,
    action: r.action,
    diagnostic,
    // Cut before joining: a report of thousands of recipients must not be copied once per recipient.
    context: (block.slice(0, MAX_BLOCK) + '\n' + report.slice(0, MAX_BLOCK)).slice(0, MAX_BLOCK),
    remoteHost: r.remoteMta || remoteHostIn(diagnostic),
    reportingHost: reportingMta,
    statusText: r.status,
    diagnosticReported: Boolean(r.diagnostic.trim()),
    command: commandIn(block) || commandIn(diagnostic),
    diagnosticType: r.diagnosticType,
  };
}

/** Per-recipient text blocks for DSN recipients, found in the human-readable part. */
function blocksFor(report: string, addresses: string[], senders: Set<string>): Map<string, string> {
  const wanted = new Set(addresses);
  const exclude = new Set([...senders].filter((a) => !wanted.has(a)));
  const found = recipientsInText(report, exclude).filter((t) => wanted.has(t.address));
  return new Map(found.map((t) => [t.address, t.block.slice(0, MAX_BLOCK)]));
}

function fromText(address: string, block: string, report: string): Finding {
  const f = blank(address);
  f.diagnostic = block.slice(0, MAX_BLOCK);
  f.context = report.slice(0, MAX_BLOCK);
  f.status = findStatus(block) || findStatus(report);
  f.replyCode = findReplyCode(block) || findReplyCode(report);
  f.command = commandIn(block) || commandIn(report);
  f.remoteHost = remoteHostIn(block) || remoteHostIn(report);
  f.action = 'failed';
  return f;
}

/** Extraction alone, before reasons are decided: what tests and operators inspect to see why. */
export function extractFindings(root: MimePart, depth = 0): Extraction {
  const { report, inlineOriginal } = reportText(root);
  const original = findOriginal(root, inlineOriginal);
  const result = extractFrom(root, report, original, depth);
  result.malformed = [...malformedIn(root), ...(result.malformed ?? [])];
  const agent = detectGateway(root.headers.raw + '\n' + report);
  if (agent) for (const f of result.findings) f.agent ??= agent;
  if (result.kind === 'bounce' || result.kind === 'delivery') {
    const mail = bounceMail(root, report);
    const lhost = detectLhost(mail);
    if (lhost) for (const f of result.findings) readWith(lhost, f, mail);
  }
  return result;
}

function bounceMail(root: MimePart, report: string): BounceMail {
  return {
    subject: header(root.headers, 'subject') ?? '',
    from: header(root.headers, 'from') ?? '',
    received: headerAll(root.headers, 'received'),
    header: (name) => header(root.headers, name) ?? '',
    report,
  };
}

/** Lets the reader of the MTA that wrote the report add what it knows about its own layout and sentences. */
function readWith(lhost: Lhost, f: Finding, mail: BounceMail): void {
  if (f.preset) return;
  const own = lhost.diagnostic?.(mail.report, f.recipient);
  if (own) {
    f.diagnostic = own.slice(0, MAX_BLOCK);
    f.status ||= findStatus(own);
    f.replyCode ||= findReplyCode(own);
  }
  const verdict = readByLhost(lhost, { recipient: f.recipient, status: normaliseStatus(f.status), replyCode: f.replyCode, command: f.command, diagnostic: f.diagnostic }, mail);
  f.lhost = lhost.name;
  if (verdict.command) f.command = verdict.command;
  if (verdict.status) f.status = verdict.status;
  if (verdict.diagnostic) f.diagnostic = verdict.diagnostic;
  if (verdict.reason) f.lhostReason = verdict.reason;
}

type Extraction = { kind: MessageKind; findings: Finding[]; original: MimePart | null; malformed?: string[] };

/** A recipient address as the suppression list could hold it: local@domain, nothing else. */
const USABLE_ADDRESS = /^[^\s@<>()[\],;:"]{1,64}@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$|^[^\s@<>()[\],;:"]{1,64}@\[[0-9.]+\]$/i;

/**
 * Delivery-status recipient blocks that are not fit to classify: a Final-Recipient that is no
 * address (";;;"), or a block with neither Action, Status nor Diagnostic-Code to say what happened.
 */
function malformedDsn(r: DsnRecipient): string | null {
  const address = r.finalRecipient.includes('@') ? r.finalRecipient : r.originalRecipient || r.finalRecipient;
  const shown = JSON.stringify(address.slice(0, 80));
  if (!USABLE_ADDRESS.test(address.trim())) return `delivery-status recipient ${shown} is not an address`;
  if (!r.action && !r.status.trim() && !r.diagnostic.trim()) return `delivery-status recipient ${shown} has no Action, Status or Diagnostic-Code`;
  return null;
}

/**
 * More recipients than one real report lists: past this the message is a flood, not a bounce,
 * and reading on would let one message hold the listener for seconds.
 */
const MAX_RECIPIENTS = 500;

/** Real delivery-status parts; DSN fields pasted into a text part only when there are none. */
function deliveryStatusParts(root: MimePart): MimePart[] {
  const parts = walk(root).filter((p) => DSN_TYPES.has(p.type));
  return parts.length > 0 ? parts : walk(root).filter((p) => p.type === 'text/plain' && looksLikeDeliveryStatus(partText(p)));
}

/** A delivery-status part longer than MAX_RECIPIENTS blocks can be: read this far, no further. */
const MAX_DSN_TEXT = 256 * 1024;
const parsedDsn = new WeakMap<MimePart, DsnReport & { cut: boolean }>();

/** The delivery-status fields of a part, parsed once per part however often they are asked for. */
function dsnOf(part: MimePart): DsnReport & { cut: boolean } {
  let parsed = parsedDsn.get(part);
  if (!parsed) {
    const text = partText(part);
    parsed = { ...parseDeliveryStatus(text.length > MAX_DSN_TEXT ? text.slice(0, text.lastIndexOf('\n', MAX_DSN_TEXT)) : text), cut: text.length > MAX_DSN_TEXT };
    parsedDsn.set(part, parsed);
  }
  return parsed;
}

/** Malformed delivery-status blocks anywhere in the report, whichever part the recipients came from. */
function malformedIn(root: MimePart): string[] {
  const parts = deliveryStatusParts(root).map(dsnOf);
  const recipients = parts.flatMap((p) => p.recipients);
  const out = recipients.slice(0, MAX_RECIPIENTS).flatMap((r) => malformedDsn(r) ?? []);
  if (recipients.length > MAX_RECIPIENTS || parts.some((p) => p.cut)) out.push(`${recipients.length}${parts.some((p) => p.cut) ? '+' : ''} delivery-status recipients, more than the ${MAX_RECIPIENTS} a report is read for`);
  return out;
}

function extractFrom(root: MimePart, report: string, original: MimePart | null, depth: number): Extraction {

  const feedback = findFeedbackPart(root);
  if (feedback) {
    const fb = readFeedback(root, feedback, original);
    return { kind: 'complaint', original, findings: fb.recipients.map((r) => ({ ...blank(r.toLowerCase()), preset: 'feedback', diagnostic: fb.feedbackType })) };
  }

  const jmrp = readMicrosoftComplaint(root, original);
  if (jmrp) return { kind: 'complaint', original, findings: jmrp.recipients.map((r) => ({ ...blank(r.toLowerCase()), preset: 'feedback', diagnostic: jmrp.feedbackType })) };

  const ses = readSesNotification(report);
  if (ses) return { kind: ses.kind, findings: ses.findings, original };

  const all = deliveryStatusParts(root).flatMap((p) => {
    const parsed = dsnOf(p);
    return parsed.recipients.map((r) => ({ r, reportingMta: parsed.reportingMta }));
  });
  // Broken recipient blocks are left out (malformedIn reports them, and the listener then acts on
  // nothing in the message); the report text may still say who failed, which is what the CLI shows.
  const dsn = all.filter(({ r }) => !malformedDsn(r)).slice(0, MAX_RECIPIENTS);
  if (dsn.length > 0) {
    const addresses = dsn.map(({ r }) => (r.finalRecipient || r.originalRecipient).toLowerCase());
    const blocks = blocksFor(report, addresses, senderAddresses(root, original));
    // Not de-duplicated: a digest of several bounces lists the same address once per bounce.
    const findings = dsn.map(({ r, reportingMta }) => fromDsn(r, blocks, report, reportingMta));
    const allDelivered = findings.every((f) => f.action === 'delivered' || f.action === 'relayed' || f.action === 'expanded');
    return { kind: allDelivered ? 'delivery' : 'bounce', original, findings };
  }

  if (isAutoReply(root)) {
    const who = autoReplyRecipient(root);
    return { kind: 'autoreply', original, findings: who ? [{ ...blank(who), preset: 'vacation', diagnostic: header(root.headers, 'subject') ?? '' }] : [] };
  }

  const failedHeader = headerAll(root.headers, 'x-failed-recipients').flatMap(addressesIn);
  // Free text is only read for failed addresses when the message presents itself as a bounce:
  // a person's mail that happens to name addresses must not suppress anyone.
  if (failedHeader.length === 0 && !presentsAsBounce(root)) return { kind: 'unrecognised', original, findings: [] };
  const exclude = senderAddresses(root, original);
  let named = recipientsInText(report, exclude);
  if (named.length === 0) {
    // Mail the sender addressed to itself bounces with the sender's address as the failed one.
    const own = new Set(headerAll(original?.headers ?? root.headers, 'from').flatMap(addressesIn));
    named = recipientsInText(report, own);
  }
  if (failedHeader.length > 0) {
    const blocks = blocksFor(report, failedHeader, exclude);
    named = failedHeader.map((address) => ({ address, block: blocks.get(address) ?? '' }));
  }
  if (named.length === 0 && original && depth < 3 && looksLikeBounce(original)) {
    // A bounce forwarded as an attachment (by a gateway or a person): read the inner one.
    const inner = extractFindings(original, depth + 1);
    if (inner.findings.length > 0) return inner;
  }
  if (named.length === 0 && original && report.trim()) {
    // The report names nobody: the original's recipients are the ones it failed for, and
    // nothing in it was said about them in particular (its words stay the context).
    const fromOriginal = addressesIn(headerAll(original.headers, 'to').join(', ')).map((address) => {
      const f = fromText(address, '', report);
      f.diagnosticReported = false;
      return f;
    });
    if (fromOriginal.length > 0) return finishText(fromOriginal, report, original);
  }
  return finishText(named.map((t) => fromText(t.address, t.block || report, report)), report, original);
}

function finishText(findings: Finding[], report: string, original: MimePart | null): Extraction {
  // One failed address and a session transcript elsewhere in the report: the remote server's
  // answer there is what the failure was about.
  const reply = findings.length === 1 ? transcriptReply(report) : '';
  for (const f of findings) if (reply && !f.diagnostic.includes(reply)) f.diagnostic = `${reply}\n${f.diagnostic}`.slice(0, MAX_BLOCK);
  return { kind: findings.length > 0 ? 'bounce' : 'unrecognised', original, findings };
}

const BOUNCE_SUBJECT = /undeliver|undelivered|returned mail|return(?:ed)? to sender|delivery (?:status|failure|notification|problem|has failed|failed)|failure notice|mail delivery (?:failed|failure|system)|not delivered|could not be delivered|nondeliverable|non-delivery|delivery error|mail system error|rejected|warning: could not send|loop (?:alert|detected)|退信|未送达|投递失败|发送失败|配信不能|送信エラー|不達|エラー/i;

/** Whether a message says, in its headers, that it is a delivery report. */
function presentsAsBounce(root: MimePart): boolean {
  if (root.params['report-type'] !== undefined) return true;
  const from = `${header(root.headers, 'from') ?? ''} ${header(root.headers, 'return-path') ?? ''} ${header(root.headers, 'sender') ?? ''}`;
  if (/mailer-daemon|post[ ._-]?master|mail[ ._-]?delivery|mail[ ._-]?administrator|<>|system administrator|[\w.]-admin@|owner-[\w.-]+@/i.test(from)) return true;
  if (/^auto-(?:generated|replied)/i.test(header(root.headers, 'auto-submitted') ?? '')) return true;
  return BOUNCE_SUBJECT.test(header(root.headers, 'subject') ?? '');
}

function looksLikeBounce(part: MimePart): boolean {
  const from = header(part.headers, 'from') ?? '';
  return part.params['report-type'] !== undefined || /mailer-daemon|postmaster/i.test(from);
}

/**
 * Mailbox files (and some forwarding setups) hold several messages one after another, each
 * introduced by an mbox "From " line; a server that copies a bounce to the postmaster produces
 * such pairs. Splits `raw` into its messages, or returns it whole when it is a single one.
 */
export function splitMailbox(raw: Buffer | string): (Buffer | string)[] {
  const head = typeof raw === 'string' ? raw.slice(0, 5) : raw.subarray(0, 5).toString('latin1');
  if (head !== 'From ') return [raw];
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  const starts: number[] = [0];
  for (const m of text.matchAll(MBOX_SEPARATOR)) if (m.index > 0) starts.push(m.index + 1);
  if (starts.length === 1) return [raw];
  return starts.map((s, i) => {
    const part = text.slice(s, starts[i + 1] ?? text.length);
    return typeof raw === 'string' ? part : Buffer.from(part, 'latin1');
  });
}

/** An mbox separator: "From " at a line start, an address or name, and a ctime-style date. */
const MBOX_SEPARATOR = /\nFrom \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}\r?\n(?=[\w-]+:)/g;

/**
 * Classifies one raw message (bytes as received). Never throws on malformed input. A mailbox of
 * several bounces gives the recipients of each in turn; the first one describes the message.
 */
export function classifyMessage(raw: Buffer | string): BounceReport {
  const messages = splitMailbox(raw);
  if (messages.length === 1) return classifyOne(raw);
  const reports = messages.map(classifyOne);
  const first = reports.find((r) => r.recipients.length > 0) ?? reports[0];
  if (!first) return classifyOne(raw);
  return { ...first, recipients: reports.flatMap((r) => r.recipients), damaged: reports.some((r) => r.damaged), malformed: reports.flatMap((r) => r.malformed) };
}

function classifyOne(raw: Buffer | string): BounceReport {
  let root: MimePart;
  try {
    root = parseMessage(raw);
  } catch {
    return { kind: 'unrecognised', recipients: [], original: null, damaged: true, malformed: [] };
  }
  try {
    const { kind, findings, original, malformed = [] } = extractFindings(root);
    const damaged = root.headers.fields.size === 0 || malformed.length > 0 || walk(root, true).some((p) => p.damaged);
    return { kind, recipients: findings.filter((f) => f.recipient).map(finish), original: describeOriginal(original), damaged, malformed };
  } catch {
    // A message this broken is reported as unrecognised rather than crashing the caller.
    return { kind: 'unrecognised', recipients: [], original: null, damaged: true, malformed: ['the classifier could not read this message'] };
  }
}

/** Parses header text on its own (used by callers that only kept headers). */
export { parseHeaders };
