/**
 * The inbound SMTP listener for the tenants' bounce domains (FANOUT_BOUNCE_PORT). It accepts
 * mail only for VERP addresses and complaint mailboxes of domains Fanout serves, stores every
 * accepted message raw, and hands it to processInbound.
 */
import { smtpRejects, smtpSessions } from '../metrics/index.ts';
import type { Store } from '../store/store.ts';
import { SmtpServer } from '../smtp/server.ts';
import type { ReceivedData, SmtpPath, SmtpSession } from '../smtp/server.ts';
import { DEFAULT_SOFT_POLICY } from './events.ts';
import type { SoftBouncePolicy } from './events.ts';
import { decideRecipient, processInbound } from './inbound.ts';
import type { InboundResult, RecipientDecision } from './inbound.ts';
import { SmtpReply as Reply } from '../core/smtp-reply.ts';

export interface BounceListenerOptions {
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  maxMessageBytes?: number;
  hostname?: string;
  softBounces?: SoftBouncePolicy;
  /** The platform secret that signs VERP addresses (getPlatformSecret). */
  secret: Buffer;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /**
   * Certificate offered with STARTTLS, so providers that send DSNs and complaint reports over
   * TLS can; without one the listener offers plain SMTP only.
   */
  tls?: { key: string; cert: string } | null;
  /**
   * Early-talker check: the greeting waits this long and a client that talks first is refused
   * (spam software does, MTAs wait). Default 100 ms; 0 greets at once.
   */
  greetingDelayMs?: number;
  /** Called after each stored message (tests and metrics). */
  onProcessed?: (result: InboundResult) => void;
}

export interface BounceListener {
  port: number;
  close(): Promise<void>;
}


/** The one place refusals become SMTP replies. */
function refusal(d: Extract<RecipientDecision, { ok: false }>): Reply {
  switch (d.why) {
    case 'foreign-domain':
      return new Reply(554, '5.7.1 Relay access denied: this server only receives bounces for its own domains');
    case 'forged-verp':
      return new Reply(550, '5.1.1 Unknown bounce address (its signature does not verify)');
    case 'unknown-mailbox':
      return new Reply(550, '5.1.1 No such mailbox: only bounce and complaint addresses are served here');
    case 'malformed':
      return new Reply(501, '5.1.3 Recipient address must be local@domain');
  }
}

export async function startBounceListener(store: Store, options: BounceListenerOptions): Promise<BounceListener> {
  const maxBytes = options.maxMessageBytes ?? 10 * 1024 * 1024;
  const policy = options.softBounces ?? DEFAULT_SOFT_POLICY;
  const log = options.log;

  async function rcptTo(_session: SmtpSession<null>, path: SmtpPath): Promise<void> {
    const d = await decideRecipient(store, options.secret, path.address);
    if (!d.ok) throw refusal(d);
  }

  async function data(session: SmtpSession<null>, received: ReceivedData): Promise<string> {
    const result = await processInbound(store, options.secret, {
      raw: received.raw!,
      mailFrom: session.mailFrom ? session.mailFrom.address : '',
      rcptTo: session.rcptTo.map((r) => r.address),
      remoteIp: session.remoteAddress,
    }, policy);
    if (result.parseStatus !== 'classified') log?.warn({ inboundId: result.inboundId, parseStatus: result.parseStatus }, 'inbound message stored but not classified');
    options.onProcessed?.(result);
    // Accepted either way: an unreadable bounce is kept for people to look at, and refusing it
    // would only make the remote MTA retry the same bytes.
    return `2.0.0 Ok: stored as ${result.inboundId} (${result.parseStatus})`;
  }

  // The SMTP layer (src/smtp/) reads DATA as a stream: past maxBytes it is thrown away and
  // answered 552 at its end, so this internet-facing port never holds more than the limit.
  const server = new SmtpServer<null>({
    observe: { session: () => smtpSessions.inc({ listener: 'bounce' }), refusal: (code: number) => smtpRejects.inc({ listener: 'bounce', class: code >= 500 ? '5xx' : '4xx' }) },
    name: options.hostname ?? 'fanout.local',
    banner: 'Fanout bounce receiver',
    maxMessageBytes: maxBytes,
    greetingDelayMs: options.greetingDelayMs ?? 100,
    tls: options.tls ?? null,
    auth: false,
    log,
    handlers: { state: () => null, mailFrom: () => undefined, rcptTo, data },
  });
  const port = await server.listen(options.port, options.host ?? '0.0.0.0');
  log?.info({ port }, 'bounce listener listening');
  return {
    port,
    close: () => server.close(3000),
  };
}
