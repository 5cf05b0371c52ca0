import net from 'node:net';
import type { Readable } from 'node:stream';
import type { RouteHost } from './routing.ts';
import { parseSmtpReply, classifyThrottle } from './replies.ts';
import type { SmtpClientError, TransactionOutcome } from './smtp-client.ts';

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
  /** Handed back before it reached a session (a graceful stop): nothing was sent. */
  withdrawn?: boolean;
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

export function describe(err: { code?: string; message: string }, stage: string): string {
  const code = err.code ?? 'ERROR';
  const why = (err.message || code).replace(/\s+/g, ' ').slice(0, 300);
  return `${stage}: ${why} (${code})`;
}

function connectionText(host: string, err: SmtpClientError | null): string {
  if (!err) return 'no reply for this recipient';
  if (err.code === 'ESTREAM') return describe(err, 'reading the message failed');
  return describe(err, err.code === 'ETIMEDOUT' ? `no answer from ${host} in time` : `connection lost during the transaction with ${host}`);
}

/**
 * Per-recipient outcomes of one transaction: a refused MAIL decides for everyone (the RCPT
 * replies after it, pipelined, only say "MAIL first"); a recipient refused at RCPT keeps that
 * answer; the others share the reply to the content. When the session ended early, those
 * without an answer share the last 421 the server gave, or the reason the session ended.
 */
export function resultOf(at: { host: string; tls: boolean }, job: EgressJob, o: TransactionOutcome): AttemptResult {
  const perRecipient = job.recipients.map((recipient, i): RecipientResult => {
    if (o.local) return { recipient, outcome: 'failed', replyCode: null, enhancedStatus: o.local.enhanced, text: o.local.text };
    if (o.mail && o.mail.code >= 400) return fromReply(recipient, o.mail.raw, 'MAIL');
    const rcpt = o.rcpt[i];
    if (rcpt && rcpt.code >= 400) return fromReply(recipient, rcpt.raw, 'RCPT');
    if (rcpt && o.data) return fromReply(recipient, o.data.raw, 'DATA');
    const closing = [o.mail, ...o.rcpt, o.data].find((r) => r?.code === 421);
    if (closing) return fromReply(recipient, closing.raw, rcpt ? 'DATA' : 'RCPT');
    return { recipient, outcome: 'deferred', replyCode: null, enhancedStatus: null, text: connectionText(at.host, o.error) };
  });
  return { mxHost: at.host, tls: at.tls, perRecipient };
}
