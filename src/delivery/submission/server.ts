import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Logger } from 'pino';
import { accountsForClientIp, authenticateSmtp, getAccount } from '../../accounts/service.ts';
import type { SendingAccount } from '../../accounts/service.ts';
import { canSendFrom, findSendingDomain } from '../../domains/service.ts';
import type { SendingDomainInfo } from '../../domains/service.ts';
import { newId } from '../../core/ids.ts';
import { AppError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import type { Lane } from '../tables.ts';
import { domainOf } from '../queue/enqueue.ts';
import type { SuppressionCheck } from '../queue/enqueue.ts';
import { GroupCommitQueue } from '../queue/group-commit.ts';
import { prepareSubmitted } from './headers.ts';
import { coalescePipelinedReplies } from './pipelining.ts';
import { AuthLockout, ConnectionCounter, RateLimiter } from './limits.ts';
import { submissionCertificate } from './tls.ts';
import type { TlsPair } from './tls.ts';
import { SmtpReply as Reply } from '../../core/smtp-reply.ts';

export interface SubmissionOptions {
  host: string;
  port: number;
  implicitTlsPort: number | null;
  hostname: string;
  maxMessageBytes: number;
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
  /** The certificate already loaded (the composition root shares it with the bounce listener); else read from the files above or made self-signed. */
  tls?: TlsPair;
  authFailureDelayMs: number;
  authLockoutFailures: number;
  authLockoutSeconds: number;
  dataDir: string;
  /**
   * AUTH over a connection without TLS. A bank's submission service must not take passwords in
   * clear over a network, so by default it is allowed only from loopback clients (a local
   * relay or a test); `true` allows it from anywhere, `false` nowhere.
   */
  allowInsecureAuth?: boolean | 'loopback';
  /** Most recipients in one message (RFC 5321 asks servers to take at least 100). */
  maxRecipients?: number;
  suppression?: SuppressionCheck | null;
  /** On close, sessions still open after this long are told 421 and closed (default 3 s). */
  shutdownGraceMs?: number;
  /** Called after each group commit (wakes a sender in the same process). */
  onCommitted?: () => void;
  logger?: Logger;
}

export interface SubmissionServer {
  /** The bound ports (useful with port 0). */
  port: number;
  implicitTlsPort: number | null;
  commits: GroupCommitQueue;
  /** Stops accepting, waits for messages being committed, closes sessions. */
  close(): Promise<void>;
}


interface SessionState {
  account: SendingAccount | null;
  /** The account whose connection slot this session holds. */
  counted: string | null;
  lane: Lane;
  quotaLeft: number | null;
}

const DOMAIN_CACHE_MS = 5000;
const ACCOUNT_CACHE_MS = 1000;

function isLoopback(ip: string): boolean {
  const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return plain === '::1' || (net.isIPv4(plain) && plain.startsWith('127.'));
}

function cleanIp(ip: string): string {
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

export async function startSubmissionServer(store: Store, options: SubmissionOptions): Promise<SubmissionServer> {
  const tls = options.tls ?? await submissionCertificate({ dataDir: options.dataDir, hostname: options.hostname, certFile: options.tlsCertFile, keyFile: options.tlsKeyFile });
  const commits = new GroupCommitQueue(store, { suppression: options.suppression ?? null, onCommitted: options.onCommitted });
  const lockout = new AuthLockout(options.authLockoutFailures, options.authLockoutSeconds);
  const connections = new ConnectionCounter();
  const rate = new RateLimiter();
  const sessions = new Map<string, SessionState>();
  const domains = new Map<string, { at: number; info: SendingDomainInfo | null }>();
  const tenantLanes = new Map<string, { at: number; lane: Lane }>();
  const accounts = new Map<string, { at: number; account: Promise<SendingAccount | null> }>();
  const insecure = options.allowInsecureAuth ?? 'loopback';
  const maxRecipients = options.maxRecipients ?? 1000;
  const log = options.logger;
  let closing = false;

  const state = (session: SMTPServerSession): SessionState => {
    let s = sessions.get(session.id);
    if (!s) {
      s = { account: null, counted: null, lane: 'transactional', quotaLeft: null };
      sessions.set(session.id, s);
    }
    return s;
  };

  const sendingDomain = async (domain: string): Promise<SendingDomainInfo | null> => {
    const hit = domains.get(domain);
    if (hit && Date.now() - hit.at < DOMAIN_CACHE_MS) return hit.info;
    const info = await findSendingDomain(store.db, domain);
    domains.set(domain, { at: Date.now(), info });
    return info;
  };

  // A tenant's type (bulk customer or transactional) is the default lane of its SMTP mail.
  const defaultLane = async (tenantId: string): Promise<Lane> => {
    const hit = tenantLanes.get(tenantId);
    if (hit && Date.now() - hit.at < DOMAIN_CACHE_MS) return hit.lane;
    const t = await store.db.selectFrom('tenants').select('account_type').where('id', '=', tenantId).executeTakeFirst();
    const lane: Lane = t?.account_type === 'bulk' ? 'bulk' : 'transactional';
    tenantLanes.set(tenantId, { at: Date.now(), lane });
    return lane;
  };

  // The account as of at most a second ago: a hold or a disabled account takes effect within
  // a second, and the store is not asked once per message. Quota is reserved atomically at
  // commit whatever this snapshot says.
  const freshAccount = (id: string): Promise<SendingAccount | null> => {
    const hit = accounts.get(id);
    if (hit && Date.now() - hit.at < ACCOUNT_CACHE_MS) return hit.account;
    const account = getAccount(store.db, id).catch(() => null);
    accounts.set(id, { at: Date.now(), account });
    return account;
  };

  const holdConnection = (s: SessionState, account: SendingAccount): void => {
    if (s.counted === account.id) return;
    if (!connections.tryOpen(account.id, account.maxConnections)) {
      throw new Reply(421, `4.7.0 Too many connections for account ${account.name} (limit ${account.maxConnections}), try again later`);
    }
    s.counted = account.id;
  };

  async function onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<SendingAccount> {
    const ip = cleanIp(session.remoteAddress);
    if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') throw new Reply(504, '5.5.4 Unrecognized authentication type');
    if (!session.secure && !(insecure === true || (insecure === 'loopback' && isLoopback(ip)))) {
      throw new Reply(538, '5.7.11 Encryption required for requested authentication mechanism (use STARTTLS)');
    }
    const username = auth.username ?? '';
    const key = AuthLockout.key(username, ip);
    const locked = lockout.lockedFor(key);
    if (locked) {
      await sleep(options.authFailureDelayMs);
      throw new Reply(454, `4.7.0 Too many failed authentication attempts; try again in ${locked} seconds`);
    }
    const account = await authenticateSmtp(store, username, auth.password ?? '');
    if (!account) {
      lockout.fail(key);
      // The delay slows password guessing; the password itself is never logged.
      log?.warn({ username, ip }, 'smtp auth failed');
      await sleep(options.authFailureDelayMs);
      throw new Reply(535, '5.7.8 Authentication credentials invalid');
    }
    lockout.succeed(key);
    const s = state(session);
    holdConnection(s, account);
    s.account = account;
    return account;
  }

  async function onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    if (closing) throw new Reply(421, '4.3.2 Service shutting down, try again later');
    const s = state(session);
    const ip = cleanIp(session.remoteAddress);
    const fromDomain = domainOf(address.address);
    if (!fromDomain) throw new Reply(553, '5.1.7 The envelope sender needs a domain (null sender not accepted for submission)');
    const domain = await sendingDomain(fromDomain);
    let account: SendingAccount | null;
    if (s.account) {
      account = await freshAccount(s.account.id);
    } else {
      // Without AUTH only the client addresses an account lists may submit: never an open relay.
      const candidates = await accountsForClientIp(store, ip);
      account = candidates.find((a) => a.tenantId === domain?.tenantId) ?? (candidates.length ? candidates[0]! : null);
      if (!account) throw new Reply(530, '5.7.0 Authentication required: relaying denied for unauthenticated clients');
    }
    if (!account || account.status === 'disabled') throw new Reply(550, '5.7.1 The sending account is disabled');
    if (account.status === 'held') throw new Reply(451, '4.7.1 Sending is held for this account by an administrator');
    if (!domain || domain.tenantId !== account.tenantId) {
      throw new Reply(553, `5.7.1 Sender domain ${fromDomain} is not a sending domain of this account's tenant`);
    }
    if (!canSendFrom(domain)) throw new Reply(550, `5.7.1 Sender domain ${fromDomain} must pass DNS verification before it sends`);
    holdConnection(s, account);
    if (!rate.take(account.id, account.messagesPerMinute)) {
      throw new Reply(451, `4.7.1 Message rate limit of ${account.messagesPerMinute} per minute reached for account ${account.name}, try again later`);
    }
    s.account = account;
    s.quotaLeft = account.remaining;
    s.lane = await defaultLane(account.tenantId);
  }

  async function onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const s = state(session);
    const at = address.address.lastIndexOf('@');
    if (at < 1 || at === address.address.length - 1) throw new Reply(501, '5.1.3 Recipient address must be local@domain');
    if (session.envelope.rcptTo.length >= maxRecipients) throw new Reply(452, `4.5.3 Too many recipients (at most ${maxRecipients} per message)`);
    // An early answer from the quota read at MAIL; the reservation itself happens at commit.
    if (s.quotaLeft !== null && session.envelope.rcptTo.length + 1 > s.quotaLeft) {
      throw new Reply(452, `4.7.1 Sending quota exhausted for account ${s.account?.name ?? ''}: ${s.quotaLeft} messages left`);
    }
  }

  async function onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    // Over the size limit smtp-server itself answers 552 5.3.4; nothing is stored.
    if (stream.sizeExceeded) throw new Reply(552, `5.3.4 Message exceeds the size limit of ${options.maxMessageBytes} bytes`);
    const s = state(session);
    const account = s.account;
    if (!account) throw new Reply(503, '5.5.1 MAIL FROM first');
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const messageId = newId('msg');
    const prepared = prepareSubmitted(Buffer.concat(chunks), {
      clientIp: cleanIp(session.remoteAddress), helo: session.hostNameAppearsAs ?? '', hostname: options.hostname, queueId: messageId,
      tls: session.secure, authenticated: Boolean(session.user), fromDomain: domainOf(mailFrom), now: new Date(),
    });
    let outcome;
    try {
      outcome = await commits.submit({
        tenantId: account.tenantId, accountId: account.id, lane: prepared.lane ?? s.lane, mailFrom,
        recipients: session.envelope.rcptTo.map((r) => ({ email: r.address })), raw: prepared.raw, messageId,
        headerMessageId: prepared.headerMessageId, source: 'smtp',
      });
    } catch (err) {
      if (err instanceof AppError && err.kind === 'validation') throw new Reply(554, `5.6.0 ${err.message}`);
      log?.error({ err }, 'storing a submitted message failed');
      throw new Reply(451, '4.3.0 Temporary failure storing the message, try again later');
    }
    if (!outcome.ok) {
      if (outcome.reason === 'disabled') throw new Reply(550, `5.7.1 ${outcome.message}`);
      if (outcome.reason === 'held') throw new Reply(451, `4.7.1 ${outcome.message}`);
      throw new Reply(452, `4.7.1 Sending quota exhausted: ${outcome.message}`);
    }
    if (s.quotaLeft !== null) s.quotaLeft -= session.envelope.rcptTo.length;
    return `2.0.0 Ok: queued as ${outcome.result.messageId}`;
  }

  const callback = <T>(work: Promise<T>, cb: (err: Error | null | undefined, value?: T) => void): void => {
    work.then((v) => cb(null, v), (err: unknown) => {
      if (err instanceof Reply) return cb(err);
      log?.error({ err }, 'submission handler failed');
      cb(new Reply(451, '4.3.0 Temporary local problem, try again later'));
    });
  };

  const serverOptions = (secure: boolean) => ({
    secure,
    key: tls.key,
    cert: tls.cert,
    name: options.hostname,
    banner: 'Fanout ESMTP submission',
    size: options.maxMessageBytes,
    authMethods: ['PLAIN', 'LOGIN'],
    // AUTH is optional at the protocol level: clients on an account's allow-list may submit
    // without it; everyone else is refused at MAIL FROM (onMailFrom), so nothing relays.
    authOptional: true,
    // Enforced per connection in onAuth (loopback by default); smtp-server's flag is global.
    allowInsecureAuth: true,
    authRequiredMessage: '5.7.0 Authentication required',
    disableReverseLookup: true,
    logger: false,
    maxClients: 2000,
    // Idle pooled client sessions would otherwise hold a shutdown for smtp-server's 30 s.
    closeTimeout: options.shutdownGraceMs ?? 3000,
    onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, cb: (err: Error | null | undefined, response?: { user: unknown }) => void) {
      callback(onAuth(auth, session).then((account) => ({ user: account.name })), cb);
    },
    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void) {
      callback(onMailFrom(address, session), cb);
    },
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void) {
      callback(onRcptTo(address, session), cb);
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void) {
      callback(onData(stream, session), cb);
    },
    onClose(session: SMTPServerSession) {
      const s = sessions.get(session.id);
      if (s?.counted) connections.close(s.counted);
      sessions.delete(session.id);
    },
  });

  const listen = (server: SMTPServer, port: number): Promise<number> => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host, () => {
      server.off('error', reject);
      resolve((server.server.address() as net.AddressInfo).port);
    });
  });

  const plain = new SMTPServer(serverOptions(false));
  plain.on('error', (err) => log?.warn({ err }, 'smtp submission error'));
  // Plain-text listener only: under implicit TLS the TLS layer owns the socket's writes.
  plain.server.on('connection', coalescePipelinedReplies);
  const port = await listen(plain, options.port);
  let implicit: SMTPServer | null = null;
  let implicitPort: number | null = null;
  if (options.implicitTlsPort !== null) {
    implicit = new SMTPServer(serverOptions(true));
    implicit.on('error', (err) => log?.warn({ err }, 'smtp submission (implicit TLS) error'));
    implicitPort = await listen(implicit, options.implicitTlsPort);
  }
  log?.info({ port, implicitTlsPort: implicitPort, selfSignedCertificate: tls.selfSigned }, 'smtp submission listening');

  return {
    port,
    implicitTlsPort: implicitPort,
    commits,
    async close() {
      closing = true;
      const closeOne = (s: SMTPServer) => new Promise<void>((resolve) => s.close(() => resolve()));
      await Promise.all([closeOne(plain), implicit ? closeOne(implicit) : Promise.resolve()]);
      // Whatever was received is either committed (and answered 250) or answered with an error.
      await commits.flushed();
    },
  };
}
