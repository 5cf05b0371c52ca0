/**
 * The order in which a reason is decided, the same order the reference analyser (Sisimai)
 * follows, so that the answers agree on mail neither has seen before:
 *
 *   1. each reason of FIRST_PASS in turn asks "is it me?": its status code (the RFC 3463 name
 *      of the reported status, STATUS_NAMES) or its own phrases in the diagnostic, with the
 *      reason's own exceptions (the SMTP command, the status naming a neighbour);
 *   2. otherwise the status decides, unless it is a vague one (RETRY) or the diagnostic is not
 *      an SMTP reply: then the phrases of SECOND_PASS, the status class (x.6 media, x.7
 *      security), a mailer's own diagnostic (X-Unix), a 50x syntax reply, a delay, a refused
 *      greeting;
 *   3. still nothing: "onhold" when something was said, "undefined" when nothing was.
 *
 * The phrases are the rules in rules.ts, one list per reason; this file only holds the order.
 */
import { PROCEDURE, STATUS_NAMES, TEXT_RULES } from './rules.ts';
import type { Reason } from './types.ts';

/** What one recipient's failure says, as the procedure reads it (the diagnostic lower-cased, whitespace collapsed). */
export interface Evidence {
  status: string;
  replyCode: string;
  diagnostic: string;
  /** smtp, x-unix, x-postfix, ... ('' counts as smtp). */
  diagnosticType: string;
  action: string;
  command: string;
}

const byReason = new Map<Reason, RegExp>();
{
  const lists = new Map<Reason, string[]>();
  for (const rule of TEXT_RULES) lists.set(rule.reason, [...(lists.get(rule.reason) ?? []), ...rule.patterns]);
  for (const [reason, patterns] of lists) byReason.set(reason, new RegExp(patterns.map((p) => `(?:${p})`).join('|'), 'i'));
}

/** Whether `text` holds one of `reason`'s phrases. */
export function says(reason: Reason, text: string): boolean {
  return byReason.get(reason)?.test(text) ?? false;
}

/** The reason RFC 3463's meaning of `status` names, or ''. */
export function statusName(status: string): Reason | '' {
  return STATUS_NAMES[status] ?? '';
}

const GREETING = new Set(['CONN', 'EHLO', 'HELO']);
const ENVELOPE = new Set(['CONN', 'EHLO', 'HELO', 'MAIL', 'RCPT']);

/** Whether the failure carries any code at all (a status, or a reply code a status can be read from). */
function coded(e: Evidence): boolean {
  return Boolean(e.status || e.replyCode);
}

/** "Is it me?" for one reason of the first pass. */
function claims(reason: Reason, e: Evidence, name: Reason | ''): boolean {
  const d = e.diagnostic;
  switch (reason) {
    case 'mailboxfull':
    case 'exceedlimit':
      return coded(e) && (name === reason || says(reason, d));
    case 'mesgtoobig':
      if (name === 'mesgtoobig') return true;
      if (name === 'exceedlimit' || e.status === '5.2.3') return false;
      return says(reason, d);
    case 'suspend':
      return coded(e) && (e.replyCode === '525' || says(reason, d));
    case 'hasmoved':
    case 'notcompliantrfc':
    case 'badreputation':
      return says(reason, d);
    case 'speeding':
      return coded(e) && says(reason, d);
    case 'norelaying':
      return !GREETING.has(e.command) && says(reason, d);
    case 'userunknown':
      if (name === 'suspend') return false;
      // The status says the address is bad, unless the words say it is something else.
      if (name === 'userunknown') return !PROCEDURE.userunknownUnless.some((r) => says(r, d));
      // Said in answer to RCPT TO; said later (or nobody says when), a filter is speaking.
      return e.command === 'RCPT' && says(reason, d);
    case 'filtered':
      if (name === 'suspend') return false;
      if (name === 'filtered') return says('userunknown', d) || says('filtered', d);
      // Words about the recipient said before the message was sent are not a filter's.
      if (ENVELOPE.has(e.command)) return false;
      return says('filtered', d) || says('userunknown', d);
    case 'rejected':
      if (name === 'rejected') return true;
      if (e.command === 'MAIL') return says(reason, d);
      if (e.command === 'DATA') return name !== 'userunknown' && says(reason, d);
      return (name === '' || name === 'onhold' || name === 'securityerror' || name === 'systemerror') && says(reason, d);
    case 'hostunknown':
      if (name === 'hostunknown') return !says('networkerror', d);
      return says(reason, d);
    case 'spamdetected':
      if (!coded(e)) return false;
      if (name === 'spamdetected') return true;
      return !ENVELOPE.has(e.command) && says(reason, d);
    default:
      return name === reason || says(reason, d);
  }
}

/** A 50x / 40x reply to a command the server could not parse. */
function syntaxReply(replyCode: string): boolean {
  const n = Number(replyCode);
  return (n > 400 && n < 408) || (n > 500 && n < 508);
}

/** The second pass: used when the first named nothing. */
function fallback(e: Evidence): Reason | '' {
  const name = statusName(e.status);
  const smtp = e.diagnosticType === '' || e.diagnosticType === 'smtp';
  if (name && !PROCEDURE.retry.includes(name) && smtp) return name;
  for (const reason of PROCEDURE.secondPass) if (says(reason, e.diagnostic)) return reason;
  // A vague status stands when no words say better.
  if (name) return name;
  const cls = e.status.slice(0, 3);
  if (cls === '5.6' || cls === '4.6') return 'contenterror';
  if (cls === '5.7' || cls === '4.7') return 'securityerror';
  if (e.diagnosticType.startsWith('x-unix')) return 'mailererror';
  if (syntaxReply(e.replyCode)) return 'syntaxerror';
  if (e.action === 'delayed' || e.action === 'expired') return 'expired';
  if (e.command === 'EHLO' || e.command === 'HELO') return 'blocked';
  return '';
}

/**
 * The first reason of the first pass that claims a failure the MTA's reader already named
 * (`own`) by vague words: each reason claims what was named after it, so only the reasons before
 * it in the order can take it; '' when none does.
 */
export function firstPassClaim(e: Evidence, own: Reason): Reason | '' {
  if (e.diagnosticType !== '' && e.diagnosticType !== 'smtp') return '';
  const name = statusName(e.status);
  return PROCEDURE.firstPass.find((reason) => reason === own || claims(reason, e, name)) ?? '';
}

/** The reason for one failure, or '' when nothing was said at all (the caller decides onhold/undefined). */
export function decideByProcedure(e: Evidence): Reason | '' {
  if (e.status.startsWith('2.')) return 'delivered';
  const name = statusName(e.status);
  // Turned away at the greeting (the name we gave, or the connection itself): whatever the words
  // say about the recipient, the refusal is about the sending host; only rate limits differ.
  if (GREETING.has(e.command) && !says('toomanyconn', e.diagnostic) && !says('speeding', e.diagnostic)) return 'blocked';
  if (e.diagnosticType === '' || e.diagnosticType === 'smtp') {
    for (const reason of PROCEDURE.firstPass) if (claims(reason, e, name)) return reason;
  }
  const other = fallback(e);
  if (other) return other;
  if (e.action === 'delayed') return 'expired';
  return '';
}
