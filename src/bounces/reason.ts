import { GATEWAY_SIGNATURES, PROCEDURE, PROVIDER_RULES, PROVIDER_STAGES, STATUS_REASONS, TEXT_RULES, WEAK_STATUS_REASONS } from './rules.ts';
import type { TextRule } from './rules.ts';
import type { Finding, Reason } from './types.ts';
import { decideByProcedure, firstPassClaim } from './procedure.ts';
import { MICROSOFT_HOSTS, microsoftReply } from './microsoft-replies.ts';
import type { Evidence } from './procedure.ts';

interface CompiledRule {
  reason: Reason;
  any: RegExp;
  each: RegExp[];
}

function compile(rules: TextRule[]): CompiledRule[] {
  return rules.map((r) => ({
    reason: r.reason,
    any: new RegExp(r.patterns.map((p) => `(?:${p})`).join('|'), 'i'),
    each: r.patterns.map((p) => new RegExp(p, 'i')),
  }));
}

const TEXT = compile(TEXT_RULES);
const PROVIDERS = PROVIDER_RULES.map((p) => ({ provider: p.provider, host: new RegExp(p.host, 'i'), rules: compile(p.rules) }));

const ANY_PROVIDER = new RegExp(PROVIDER_RULES.map((p) => `(?:${p.host})`).join('|'), 'i');
const STAGES = PROVIDER_STAGES.map((p) => ({ ...p, hostRe: new RegExp(p.host, 'i') }));

/** A provider's stage-dependent answer for `status` given at `command`, or null. */
export function matchProviderStage(host: string, status: string, command: string): Reason | null {
  return STAGES.find((p) => p.hostRe.test(host) && p.status === status && p.command === command)?.reason ?? null;
}

const GATEWAYS = GATEWAY_SIGNATURES.map((g) => ({ agent: g.agent, re: new RegExp(g.pattern, 'im') }));

/** The filtering gateway whose signature appears in `text` (headers and report), or undefined. */
export function detectGateway(text: string): string | undefined {
  return GATEWAYS.find((g) => g.re.test(text))?.agent;
}

/** Collapses whitespace so that patterns need not care how a server wrapped its lines. */
let lastText = '';
let lastNormalised = '';

export function normaliseText(text: string): string {
  // Every recipient of one report carries the same report text: normalise it once.
  if (text === lastText) return lastNormalised;
  lastText = text;
  lastNormalised = normaliseOnce(text);
  return lastNormalised;
}

function normaliseOnce(text: string): string {
  // Multi-line replies repeat "550-5.7.1" at each line start; inside a sentence they only break phrases.
  return text.replace(/\s+/g, ' ').replace(/(?<=[a-z,] )[245]\d\d[- ](?:[245]\.\d{1,3}\.\d{1,3} )?(?=[a-z])/gi, '').trim();
}

export interface TextMatch {
  reason: Reason;
  /** The rule pattern that matched, so tests and operators can see why. */
  pattern: string;
  provider?: string;
}

function firstMatch(rules: CompiledRule[], text: string): TextMatch | null {
  if (!text) return null;
  for (const r of rules) {
    if (!r.any.test(text)) continue;
    const hit = r.each.find((re) => re.test(text));
    return { reason: r.reason, pattern: hit?.source ?? r.any.source };
  }
  return null;
}

/** The first text rule (in precedence order) that matches `text`, or null. */
export function matchText(text: string): TextMatch | null {
  return firstMatch(TEXT, normaliseText(text));
}

/** Provider-specific rules, used when the host or the text names a provider with its own codes. */
export function matchProvider(host: string, text: string): TextMatch | null {
  return matchProviderIn(host, normaliseText(text));
}

/** matchProvider for text already passed through normaliseText. */
function matchProviderIn(host: string, t: string): TextMatch | null {
  // One pass over all providers' host signs first: most bounces name none of them.
  if (!ANY_PROVIDER.test(host) && !ANY_PROVIDER.test(t)) return null;
  for (const p of PROVIDERS) {
    if (!p.host.test(host) && !p.host.test(t)) continue;
    const m = firstMatch(p.rules, t);
    if (m) return { ...m, provider: p.provider };
  }
  return null;
}

const STATUS_RE = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/g;
const REPLY_RE = /(?<![\d.\w-])([245][0-5]\d)(?=[\s-]|$)/g;

/** The first enhanced status code in `text`, or ''. */
export function findStatus(text: string): string {
  // Transcripts show successes before the failure: prefer the first 4.x.x / 5.x.x code.
  let success = '';
  for (const m of text.matchAll(STATUS_RE)) {
    const code = `${m[1]}.${Number(m[2])}.${Number(m[3])}`;
    if (m[1] !== '2') return code;
    if (!success) success = code;
  }
  return success;
}

/** The first SMTP reply code in `text`, or ''. */
export function findReplyCode(text: string): string {
  let success = '';
  for (const m of text.matchAll(REPLY_RE)) {
    const code = m[1] ?? '';
    if (!code.startsWith('2')) return code;
    if (!success) success = code;
  }
  return success;
}

/** Cleans a reported status to `class.subject.detail`, or '' when it is not one. */
export function normaliseStatus(status: string): string {
  return findStatus(status.trim());
}

/**
 * Which of two enhanced status codes to believe: the DSN's Status field or the code inside the
 * remote server's reply (`inMessage`), in the order the reference analyser weighs them. The
 * field wins unless it is the vaguer one: a generic x.0.0 or x.Y.0 against a specific code,
 * Sendmail's catch-all 4.4.7, a 5.3.x system code, or a 5.1.1 beside a specific code of another kind.
 */
export function preferStatus(field: string, inMessage: string): string {
  if (!field || field.length < 5) return inMessage || field;
  if (!inMessage || inMessage.length < 5) return field;
  // Codes of different classes (a 4.x.x field over a quoted 5.x.x reply) describe different
  // attempts; the report's own field is the outcome.
  if (field[0] !== inMessage[0]) return field;
  if (field === inMessage) return field;
  const generic = (code: string) => code.endsWith('.0.0');
  const zeroed = (code: string) => code.slice(1).includes('.0');
  if (generic(field)) return generic(inMessage) ? field : inMessage;
  if (zeroed(field) && !zeroed(inMessage)) return inMessage;
  if (generic(inMessage)) return field;
  if (field === '4.4.7' || field.startsWith('5.3.')) return inMessage;
  if (field === '5.1.1') return zeroed(inMessage) ? field : inMessage;
  if (field === '5.1.3' && inMessage.startsWith('5.7.')) return inMessage;
  return field;
}

const HARD: ReadonlySet<Reason> = new Set<Reason>(['userunknown', 'hostunknown', 'hasmoved']);

/**
 * Whether the address should never be tried again. Only reasons that say the address itself is
 * gone are hard; "notaccept" (the domain takes no mail) is hard unless a code says it was
 * temporary, because a temporary version of it is usually a DNS hiccup.
 */
export function isHardBounce(reason: Reason, status: string, replyCode = ''): boolean {
  if (HARD.has(reason)) return true;
  if (reason === 'notaccept') return !(status ? status.startsWith('4') : replyCode.startsWith('4'));
  return false;
}

/**
 * Stand-in detail codes for failures that carried no status: class 4 or 5 from what is known,
 * then a fixed 9xx detail per reason, so a stored status always says something.
 */
const PSEUDO_DETAIL: Record<Reason, string> = {
  undefined: '900', onhold: '901', syntaxerror: '902', securityerror: '905', norelaying: '909', filtered: '910', userunknown: '911',
  hostunknown: '912', exceedlimit: '915', rejected: '918', suspend: '921', mailboxfull: '922', systemerror: '930', notaccept: '932',
  mesgtoobig: '934', contenterror: '935', networkerror: '944', expired: '947', mailererror: '950', virusdetected: '960', spamdetected: '980',
  blocked: '971', requireptr: '973', authfailure: '975', badreputation: '977', policyviolation: '972', toomanyconn: '945', speeding: '946', systemfull: '931',
  hasmoved: '916', notcompliantrfc: '974', delivered: '000', feedback: '', vacation: '',
};

export function pseudoStatus(reason: Reason, temporary: boolean): string {
  if (reason === 'feedback' || reason === 'vacation') return '';
  if (reason === 'delivered') return '2.0.0';
  return `${temporary ? 4 : 5}.0.${PSEUDO_DETAIL[reason]}`;
}

const DELIVERED_ACTIONS = new Set(['delivered', 'relayed', 'expanded']);

/**
 * Decides the reason for one finding. Precedence: what the format itself says (ARF, auto-reply),
 * success, provider codes, the diagnostic text, a specific status code, the surrounding report
 * text, a generic status code, the SMTP command that failed, a delay, and finally "onhold"
 * (a failure we cannot name) or "undefined" (nothing to go on).
 */
export function decideReason(f: Finding): Reason {
  const byLhost = f.preset ? undefined : decideByLhost(f);
  if (byLhost) return byLhost;
  const decided = decideByRules(f);
  if (decided !== 'onhold' && decided !== 'undefined') return decided;
  // The phrase rules named nothing: the reference analyser's order of status code, reply code
  // and each reason's phrases (procedure.ts) often still does, where the status or the SMTP
  // command carries the meaning the words do not.
  const status = normaliseStatus(f.status);
  const evidence: Evidence = { status, replyCode: f.replyCode, diagnostic: normaliseText(f.diagnostic), diagnosticType: f.diagnosticType, action: f.action, command: f.command };
  let byProcedure = decideByProcedure(evidence);
  // A name lookup that failed only for now is a DNS problem, not a domain that does not exist.
  if (byProcedure === 'hostunknown' && (status.startsWith('4') || f.replyCode.startsWith('4'))) byProcedure = 'networkerror';
  if (byProcedure) return byProcedure;
  // Undecided: "onhold" when the failure was described and nothing here could name it,
  // "undefined" when a delivery-status report said nothing about it at all (a bare Status:
  // 5.0.0, no Diagnostic-Code, and no words beside the address in the report).
  const said = f.diagnostic.replace(/<?[^\s<>@]+@[^\s<>@]+>?/g, '');
  return decided === 'onhold' && f.diagnosticReported === false && !/[a-z]/i.test(said) ? 'undefined' : decided;
}

const RETRY: ReadonlySet<Reason> = new Set(PROCEDURE.retry);

/**
 * The reason the MTA's own reader gave (lhost/), decided as the reference analyser does: a
 * definite reason stands; a vague one (RETRY) gives way to a provider's codes for the remote
 * host, then to the first reason whose status or phrases claim the failure, and otherwise stands.
 */
function decideByLhost(f: Finding): Reason | undefined {
  const own = f.lhostReason;
  if (!own) return undefined;
  const status = normaliseStatus(f.status);
  if (status.startsWith('2.') || DELIVERED_ACTIONS.has(f.action)) return 'delivered';
  if (!RETRY.has(own)) return own;
  // "Undecided" from the reader leaves the whole procedure to decide.
  if (own === 'onhold' || own === 'undefined') return undefined;
  const hosts = `${f.remoteHost || f.reportingHost || ''} ${f.recipient.slice(f.recipient.indexOf('@') + 1)}`;
  const diag = normaliseText(f.diagnostic);
  const provider = byMicrosoftList(f, status, diag) ?? matchProviderIn(hosts, diag)?.reason;
  if (provider) return provider;
  const claimed = firstPassClaim({ status, replyCode: f.replyCode, diagnostic: diag, diagnosticType: f.diagnosticType, action: f.action, command: f.command }, own);
  // A name lookup that failed only for now (a 4xx) is the DNS trouble the reader said, not a missing domain.
  if (claimed === 'hostunknown' && own === 'networkerror' && (status.startsWith('4') || f.replyCode.startsWith('4'))) return own;
  return claimed || own;
}

/** The phrase rules in their precedence, with the stage adjustments; 'onhold' or 'undefined' when they name nothing. */
function decideByRules(f: Finding): Reason {
  const { reason, by } = decideBase(f);
  if (by === 'format' || by === 'provider') return reason;
  const status = normaliseStatus(f.status);
  // "User unknown" said after DATA, when the address was accepted at RCPT TO, comes from a
  // filter (mobile carriers and appliances answer this way) unless the status insists.
  if (reason === 'userunknown' && STATUS_REASONS[status] !== 'userunknown' && f.command === 'DATA') return 'filtered';
  if (reason === 'userunknown' && f.agent && STATUS_REASONS[status] !== 'userunknown' && f.command !== 'RCPT') return 'filtered';
  // "User unknown" under 5.2.1 not at RCPT TO: the mailbox exists but refuses this mail, a
  // suspension when the report says the mailbox is disabled (often only in the Status comment),
  // otherwise a filter.
  if (reason === 'userunknown' && status === '5.2.1' && f.command !== 'RCPT') return matchText(f.statusText ?? f.status)?.reason === 'suspend' ? 'suspend' : 'filtered';
  // "User unknown" relayed from the remote server's reply, with no bad-mailbox status and not as
  // the answer to RCPT TO, is a recipient-side filter refusing the message; the report writer's
  // own verdict on its own mailboxes (no reply code before the words) is believed.
  if (reason === 'userunknown' && !MAILBOX_STATUSES.has(status) && f.command !== 'RCPT' && f.command !== 'MAIL' && relayedUserUnknown(f)) return 'filtered';
  // "User unknown" under a security/policy status (5.7.x) is a policy filter speaking, not a missing mailbox.
  if (reason === 'userunknown' && status.startsWith('5.7.') && f.command !== 'RCPT') return 'filtered';
  // Refused at MAIL FROM: whatever the words, it is the sender that was not accepted.
  if ((reason === 'userunknown' || reason === 'hostunknown') && f.command === 'MAIL') return 'rejected';
  // Refused before any envelope was sent: the connecting host was turned away.
  if (reason === 'rejected' && (f.command === 'CONN' || f.command === 'HELO')) return 'blocked';
  // A name lookup that failed only for now is a DNS problem, not a domain that does not exist.
  if (reason === 'hostunknown' && (normaliseStatus(f.status).startsWith('4') || f.replyCode.startsWith('4'))) return 'networkerror';
  return reason;
}

/** Statuses that themselves say the mailbox address is bad (RFC 3463 x.1.0, x.1.1, x.1.3, and 5.1.10). */
const MAILBOX_STATUSES: ReadonlySet<string> = new Set(['5.1.0', '5.1.1', '5.1.3', '5.1.10', '4.1.0', '4.1.1']);

const REPLY_AT = /(?<![\d.\w-])[45]\d\d(?=[\s:'-])/g;

/**
 * Whether the user-unknown words quote the refusing server's answer: a DSN Diagnostic-Code field,
 * or words that follow a 4xx/5xx reply code.
 */
function relayedUserUnknown(f: Finding): boolean {
  const diag = normaliseText(f.diagnostic);
  const inDiag = firstMatch(TEXT, diag)?.reason === 'userunknown';
  if (inDiag && f.diagnosticReported) return true;
  const text = inDiag ? diag : normaliseText(f.context);
  for (const m of text.matchAll(REPLY_AT)) {
    if (firstMatch(TEXT, text.slice(m.index, m.index + 160))?.reason === 'userunknown') return true;
  }
  return false;
}

/** Exchange Online's own list, for replies from its hosts (or to its own outlook.com domain). */
function byMicrosoftList(f: Finding, status: string, diag: string): Reason | undefined {
  const domain = f.recipient.slice(f.recipient.indexOf('@') + 1);
  if (!MICROSOFT_HOSTS.test(f.remoteHost) && domain !== 'outlook.com') return undefined;
  return microsoftReply(status, diag.toLowerCase());
}

type Decided = { reason: Reason; by: 'format' | 'provider' | 'text' | 'status' | 'fallback' };

function decideBase(f: Finding): Decided {
  if (f.preset) return { reason: f.preset, by: 'format' };
  const status = normaliseStatus(f.status);
  if (status.startsWith('2.') || DELIVERED_ACTIONS.has(f.action)) return { reason: 'delivered', by: 'format' };
  if (f.action === 'expired') return { reason: 'expired', by: 'format' };
  const diag = normaliseText(f.diagnostic);
  const context = normaliseText(f.context);

  // The host that answered, or when the report does not name one, the host that wrote it.
  const hosts = `${f.remoteHost || f.reportingHost || ''} ${f.recipient.slice(f.recipient.indexOf('@') + 1)}`;
  const listed = byMicrosoftList(f, status, diag);
  if (listed) return { reason: listed, by: 'provider' };
  const provider = matchProviderIn(hosts, diag ? diag : context) ?? (diag ? matchProviderIn(hosts, context) : null);
  if (provider) return { reason: provider.reason, by: 'provider' };
  const staged = matchProviderStage(hosts, status, f.command);
  if (staged) return { reason: staged, by: 'provider' };

  const byDiag = firstMatch(TEXT, diag);
  const strong = STATUS_REASONS[status];
  if (strong && DECISIVE_STATUSES.has(status)) return { reason: strong, by: 'status' };
  if (byDiag) {
    // A specific status beats a vague phrase only when the phrase is a catch-all reason.
    if (strong && CATCH_ALL.has(byDiag.reason)) return { reason: strong, by: 'status' };
    return { reason: byDiag.reason, by: 'text' };
  }
  if (strong) return { reason: strong, by: 'status' };
  const weak = WEAK_STATUS_REASONS[status];
  // A diagnostic of its own that says nothing known (a program's exit code, a bare reply) leaves
  // the status to speak; the report around it is about the message as a whole.
  if (weak && /[a-z0-9]/i.test(diag)) return { reason: weak, by: 'status' };
  const byContext = firstMatch(TEXT, context);
  if (byContext) return { reason: byContext.reason, by: 'text' };
  if (weak) return { reason: weak, by: 'status' };
  if (f.command === 'MAIL') return { reason: 'rejected', by: 'fallback' };
  if (f.command === 'HELO' || f.command === 'EHLO' || f.command === 'CONN') return { reason: 'blocked', by: 'fallback' };
  if (f.action === 'delayed' || status.startsWith('4.4')) return { reason: 'expired', by: 'fallback' };
  const failed = status.startsWith('5') || status.startsWith('4') || f.replyCode.startsWith('5') || f.replyCode.startsWith('4') || f.action === 'failed';
  return { reason: failed ? 'onhold' : 'undefined', by: 'fallback' };
}

/** Reasons whose phrases are generic enough that a specific status code should win over them. */
const CATCH_ALL: ReadonlySet<Reason> = new Set<Reason>(['rejected', 'systemerror', 'securityerror', 'filtered', 'contenterror', 'expired']);

/**
 * Statuses so specific that no wording overrides them (a moved address, a per-recipient size
 * limit, a delivery time that ran out: whatever kept the message deferred, it expired). A 4.4.7
 * whose diagnostic quotes a reply code gives way to that code before this (classify.ts).
 */
const DECISIVE_STATUSES: ReadonlySet<string> = new Set(['5.1.6', '5.2.3', '4.2.3', '4.4.7']);
