import net from 'node:net';
import type { Readable } from 'node:stream';
import type { RouteHost } from './routing.ts';
import { parseSmtpReply, classifyThrottle } from './replies.ts';
import type { EnvelopeState, SendInfo, SmtpError } from './smtp-client.ts';

/** What the egress is asked to do, what it answers, and how SMTP replies become outcomes. */
export interface EgressJob {
  site: string;
  hosts: RouteHost[];
  sourceIp?: string;
  /** Envelope sender; "" for the null sender (bounces). */
  mailFrom: string;
  recipients: string[];
  message: Buffer | Readable;
}

export type RecipientOutcome = 'delivered' | 'deferred' | 'failed';

export interface RecipientResult {
  recipient: string;
  outcome: RecipientOutcome;
  replyCode: number | null;
  enhancedStatus: string | null;
  text: string;
  /** The command the reply answered (RCPT, DATA, MAIL, CONN), when known: classification needs it. */
  command?: string;
}

export interface AttemptResult {
  /** The host that answered; "" when no host could be reached. */
  mxHost: string;
  /** Whether the session was encrypted with STARTTLS. */
  tls: boolean;
  perRecipient: RecipientResult[];
}

export class EgressInputError extends Error {
  override name = 'EgressInputError';
}

const ADDRESS = /^[^\s<>\r\n@]+@[^\s<>\r\n@]+$/;

export function validateJob(job: EgressJob): void {
  if (!job || typeof job !== 'object') throw new EgressInputError('egress: job must be an object');
  if (typeof job.site !== 'string' || !job.site) throw new EgressInputError('egress: job.site is required');
  if (!Array.isArray(job.hosts) || job.hosts.length === 0) throw new EgressInputError(`egress: job for site ${job.site} has no hosts`);
  for (const h of job.hosts) {
    if (!h || typeof h.host !== 'string' || !h.host || !Number.isInteger(h.port) || h.port < 1 || h.port > 65535) {
      throw new EgressInputError(`egress: bad host ${JSON.stringify(h)} for site ${job.site}`);
    }
  }
  if (typeof job.mailFrom !== 'string' || (job.mailFrom !== '' && !ADDRESS.test(job.mailFrom))) throw new EgressInputError(`egress: bad envelope sender ${JSON.stringify(job.mailFrom)}`);
  if (!Array.isArray(job.recipients) || job.recipients.length === 0) throw new EgressInputError('egress: job has no recipients');
  for (const r of job.recipients) if (typeof r !== 'string' || !ADDRESS.test(r)) throw new EgressInputError(`egress: bad recipient ${JSON.stringify(r)}`);
  if (!Buffer.isBuffer(job.message) && !(job.message && typeof (job.message as Readable).pipe === 'function')) throw new EgressInputError('egress: message must be a Buffer or a Readable');
  if (job.sourceIp !== undefined && !net.isIP(job.sourceIp)) throw new EgressInputError(`egress: sourceIp ${JSON.stringify(job.sourceIp)} is not an IP address`);
}

/** An SMTP reply to the transaction (the session is still usable), not a broken connection. */
export function isProtocolReply(err: SmtpError): boolean {
  return err.code === 'EENVELOPE' || err.code === 'EMESSAGE';
}

export function outcomeFor(code: number | null, enhancedStatus: string | null, text: string): RecipientOutcome {
  if (code === null) return 'deferred';
  if (code >= 200 && code < 300) return 'delivered';
  if (code >= 500) {
    // Some providers (QQ "550 Ip frequency limited") refuse a rate with 5xx: a throttle, not a verdict.
    return classifyThrottle(code, enhancedStatus, text) === 'none' ? 'failed' : 'deferred';
  }
  return 'deferred';
}

export function fromReply(recipient: string, raw: string, command = 'RCPT'): RecipientResult {
  const r = parseSmtpReply(raw);
  return { recipient, outcome: outcomeFor(r.code, r.enhancedStatus, r.text), replyCode: r.code, enhancedStatus: r.enhancedStatus, text: r.text, command };
}

/** nodemailer names the failed step "MAIL FROM", "RCPT TO", "DATA", "CONN", ...: keep the verb. */
const verb = (command: string | undefined) => (command ? command.split(' ')[0]!.toUpperCase() : undefined);

export function describe(err: SmtpError, stage: string): string {
  const code = err.code ?? 'ERROR';
  const why = (err.message || code).replace(/\s+/g, ' ').slice(0, 300);
  return `${stage}: ${why} (${code})`;
}

export function resultFromInfo(at: { host: string; tls: boolean }, job: EgressJob, info: SendInfo): AttemptResult {
  const final = parseSmtpReply(info.response);
  const rejected = new Map<string, SmtpError>();
  for (const e of info.rejectedErrors ?? []) if (e.recipient) rejected.set(e.recipient, e);
  const perRecipient = job.recipients.map((recipient): RecipientResult => {
    const e = rejected.get(recipient);
    if (e?.response) return fromReply(recipient, e.response);
    if (info.accepted.includes(recipient)) return { recipient, outcome: outcomeFor(final.code, final.enhancedStatus, final.text), replyCode: final.code, enhancedStatus: final.enhancedStatus, text: final.text, command: 'DATA' };
    return { recipient, outcome: 'deferred', replyCode: null, enhancedStatus: null, text: 'no reply for this recipient' };
  });
  return { mxHost: at.host, tls: at.tls, perRecipient };
}

export function resultFromError(at: { host: string; tls: boolean; envelope: EnvelopeState | false | undefined }, job: EgressJob, err: SmtpError): AttemptResult {
  const env = at.envelope || {};
  const rejected = new Map<string, SmtpError>();
  for (const e of [...(env.rejectedErrors ?? []), ...(err.rejectedErrors ?? [])]) if (e.recipient) rejected.set(e.recipient, e);
  const protocolReply = isProtocolReply(err);
  let shared: Omit<RecipientResult, 'recipient'>;
  if (err.code === 'EMESSAGE' && !err.response && /size larger than allowed/i.test(err.message)) {
    shared = { outcome: 'failed', replyCode: null, enhancedStatus: '5.3.4', text: `message is larger than the server accepts: ${err.message}` };
  } else if (err.response) {
    const r = parseSmtpReply(err.response);
    shared = { outcome: protocolReply ? outcomeFor(r.code, r.enhancedStatus, r.text) : 'deferred', replyCode: r.code, enhancedStatus: r.enhancedStatus, text: r.text, command: verb(err.command) };
  } else if (err.code === 'ESTREAM') {
    // The message source failed, not the server: the session cannot carry on mid-DATA.
    shared = { outcome: 'deferred', replyCode: null, enhancedStatus: null, text: describe(err, 'reading the message failed') };
  } else {
    const stage = err.code === 'ETIMEDOUT' ? `no answer from ${at.host} in time` : `connection lost during the transaction with ${at.host}`;
    shared = { outcome: 'deferred', replyCode: null, enhancedStatus: null, text: describe(err, stage) };
  }
  // A refused MAIL FROM decides for everyone: the RCPT replies after it (pipelined) only
  // say "need MAIL first" and must not turn a temporary refusal into 5xx failures.
  const senderRefused = err.command === 'MAIL FROM';
  const perRecipient = job.recipients.map((recipient): RecipientResult => {
    const e = senderRefused ? undefined : rejected.get(recipient);
    // A recipient refused at RCPT keeps that answer; the others share the transaction's fate.
    if (e?.response) return fromReply(recipient, e.response);
    return { recipient, ...shared };
  });
  return { mxHost: at.host, tls: at.tls, perRecipient };
}
