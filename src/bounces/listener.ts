/**
 * The inbound SMTP listener for the tenants' bounce domains (FANOUT_BOUNCE_PORT). It accepts
 * mail only for VERP addresses and complaint mailboxes of domains Fanout serves, stores every
 * accepted message raw, and hands it to processInbound.
 */
import type net from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Store } from '../store/store.ts';
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

  const handle = <T>(work: Promise<T>, cb: (err: Error | null | undefined, value?: T) => void): void => {
    work.then((v) => cb(null, v), (err: unknown) => {
      if (err instanceof Reply) return cb(err);
      log?.error({ err }, 'bounce listener handler failed');
      cb(new Reply(451, '4.3.0 Temporary local problem, try again later'));
    });
  };

  async function onRcptTo(address: SMTPServerAddress): Promise<void> {
    const d = await decideRecipient(store, options.secret, address.address);
    if (!d.ok) throw refusal(d);
  }

  async function onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    if (stream.sizeExceeded) throw new Reply(552, `5.3.4 Message exceeds the size limit of ${maxBytes} bytes`);
    const result = await processInbound(store, options.secret, {
      raw: Buffer.concat(chunks),
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      rcptTo: session.envelope.rcptTo.map((r) => r.address),
      remoteIp: (session.remoteAddress ?? '').replace(/^::ffff:/, ''),
    }, policy);
    if (result.parseStatus !== 'classified') log?.warn({ inboundId: result.inboundId, parseStatus: result.parseStatus }, 'inbound message stored but not classified');
    options.onProcessed?.(result);
    // Accepted either way: an unreadable bounce is kept for people to look at, and refusing it
    // would only make the remote MTA retry the same bytes.
    return `2.0.0 Ok: stored as ${result.inboundId} (${result.parseStatus})`;
  }

  const server = new SMTPServer({
    name: options.hostname,
    banner: 'Fanout bounce receiver',
    size: maxBytes,
    disabledCommands: options.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 3000,
    onRcptTo(address, _session, cb) {
      handle(onRcptTo(address), cb);
    },
    onData(stream, session, cb) {
      handle(onData(stream, session), cb);
    },
  });
  server.on('error', (err) => log?.warn({ err }, 'bounce listener error'));
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve((server.server.address() as net.AddressInfo).port);
    });
  });
  log?.info({ port }, 'bounce listener listening');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
