import net from 'node:net';
import { smtpRejects, smtpSessions } from '../../metrics/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { accountsForClientIp, authenticateSmtp, getAccount } from '../../accounts/index.ts';
import type { SendingAccount } from '../../accounts/index.ts';
import { canSendFrom, findSendingDomain } from '../../domains/index.ts';
import type { SendingDomainInfo } from '../../domains/index.ts';
import { newId } from '../../core/ids.ts';
import { tenantAccountType } from '../../tenants/index.ts';
import { AppError } from '../../core/errors.ts';
import { prepareDummyPassword } from '../../core/passwords.ts';
import type { Store } from '../../store/store.ts';
import { FaultLog, isStorageFull } from '../../store/faults.ts';
import type { Lane } from '../tables.ts';
import { domainOf } from '../queue/enqueue.ts';
import type { SuppressionCheck } from '../queue/enqueue.ts';
import { GroupCommitQueue } from '../queue/group-commit.ts';
import { SmtpServer } from '../../smtp/server.ts';
import type { ReceivedData, SmtpCredentials, SmtpPath, SmtpSession } from '../../smtp/server.ts';
import { prepareSubmitted, readHeaders } from './headers.ts';
import { checkFrom } from './from-policy.ts';
import { TtlCache } from './cache.ts';
import { AuthLockout, ConnectionCounter, RateLimiter, SharedAuthLockout } from './limits.ts';
import type { Lockout } from './limits.ts';
import { StoreCounters } from '../../cluster/index.ts';
import { submissionCertificate } from './tls.ts';
import type { TlsPair } from './tls.ts';
import { SmtpReply as Reply } from '../../core/smtp-reply.ts';
import type { SubmissionInspect } from '../../core/submission-inspect.ts';
export type { SubmissionInspect };

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
  /** Failed AUTH attempts from one client address, whatever the user names, before it is locked out (default 20). */
  authIpLockoutFailures?: number;
  /** Early-talker check before the greeting (default 0: business systems on the submission port are greeted at once). */
  greetingDelayMs?: number;
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
  /** On close, sessions still open after this long are cut (default 3 s). */
  shutdownGraceMs?: number;
  /** Called after each group commit (wakes a sender in the same process). */
  onCommitted?: () => void;
  /** Extension hooks' look at a message before it is queued (`submission.message`). */
  inspect?: SubmissionInspect;
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
  /** The account AUTH proved, if any. */
  authenticated: SendingAccount | null;
  /** The account of the open transaction (AUTH's, or the one the client address allows). */
  account: SendingAccount | null;
  /** The account whose connection slot this session holds (one slot at most, ever). */
  counted: string | null;
  lane: Lane;
  quotaLeft: number | null;
}

const DOMAIN_CACHE_MS = 5000;
const ACCOUNT_CACHE_MS = 1000;

function isLoopback(ip: string): boolean {
  return ip === '::1' || (net.isIPv4(ip) && ip.startsWith('127.'));
}

export async function startSubmissionServer(store: Store, options: SubmissionOptions): Promise<SubmissionServer> {
  const tls = options.tls ?? await submissionCertificate({ dataDir: options.dataDir, hostname: options.hostname, certFile: options.tlsCertFile, keyFile: options.tlsKeyFile });
  // The hash unknown account names are checked against, made before the first client comes.
  await prepareDummyPassword();
  const commits = new GroupCommitQueue(store, { suppression: options.suppression ?? null, onCommitted: options.onCommitted });
  // Several nodes on one PostgreSQL share the lock-outs; a single SQLite node keeps them in memory.
  const counters = store.engine === 'postgres' ? new StoreCounters(store) : null;
  const lockout: Lockout = counters
    ? new SharedAuthLockout(counters, 'smtp-auth', options.authLockoutFailures, options.authLockoutSeconds)
    : new AuthLockout(options.authLockoutFailures, options.authLockoutSeconds);
  const ipLockout: Lockout = counters
    ? new SharedAuthLockout(counters, 'smtp-auth-ip', options.authIpLockoutFailures ?? 20, options.authLockoutSeconds)
    : new AuthLockout(options.authIpLockoutFailures ?? 20, options.authLockoutSeconds);
  const connections = new ConnectionCounter();
  const rate = new RateLimiter();
  const domains = new TtlCache<string, SendingDomainInfo | null>(DOMAIN_CACHE_MS);
  const tenantLanes = new TtlCache<string, Lane>(DOMAIN_CACHE_MS);
  const accounts = new TtlCache<string, SendingAccount | null>(ACCOUNT_CACHE_MS);
  const ipAccounts = new TtlCache<string, SendingAccount[]>(ACCOUNT_CACHE_MS);
  const insecure = options.allowInsecureAuth ?? 'loopback';
  const log = options.logger;
  const faults = new FaultLog();
  let closing = false;

  const sendingDomain = (domain: string) => domains.get(domain, () => findSendingDomain(store.db, domain));
  // A tenant's type (bulk customer or transactional) is the default lane of its SMTP mail.
  const defaultLane = (tenantId: string) => tenantLanes.get(tenantId, async () => {
    return (await tenantAccountType(store.db, tenantId)) === 'bulk' ? 'bulk' : 'transactional';
  });
  // The account as of at most a second ago: a hold or a disabled account takes effect within
  // a second, and the store is not asked once per message. Quota is reserved atomically at
  // commit whatever this snapshot says.
  // Only "no such account" reads as null (refused 550); a store that is away (restart,
  // fail-over) fails the command with 451 instead, so the client tries again later.
  const freshAccount = (id: string) => accounts.get(id, () => getAccount(store.db, id).catch((err: unknown) => {
    if (err instanceof AppError && err.kind === 'not_found') return null;
    throw err;
  }));
  // Only a positive answer is remembered: an address an administrator has just allowed
  // submits at once, while one already allowed costs no look-up per message.
  const allowedAccounts = (ip: string) => ipAccounts.get(ip, () => accountsForClientIp(store, ip), (found) => found.length > 0);

  /** A session holds at most one account's connection slot: taking another gives the first back. */
  const holdConnection = (s: SessionState, account: SendingAccount): void => {
    if (s.counted === account.id) return;
    if (!connections.tryOpen(account.id, account.maxConnections)) {
      throw new Reply(421, `4.7.0 Too many connections for account ${account.name} (limit ${account.maxConnections}), try again later`);
    }
    if (s.counted) connections.close(s.counted);
    s.counted = account.id;
  };

  async function auth(session: SmtpSession<SessionState>, credentials: SmtpCredentials): Promise<string> {
    const started = Date.now();
    const ip = session.remoteAddress;
    if (!session.secure && !(insecure === true || (insecure === 'loopback' && isLoopback(ip)))) {
      throw new Reply(538, '5.7.11 Encryption required for requested authentication mechanism (use STARTTLS)');
    }
    // Every refusal leaves at the same moment after the attempt began, whatever was checked:
    // the reply time tells nothing about whether the name exists, and guessing is slowed.
    const refuse = async (reply: Reply): Promise<never> => {
      const wait = started + options.authFailureDelayMs - Date.now();
      if (wait > 0) await sleep(wait);
      throw reply;
    };
    const ipLocked = await ipLockout.lockedFor(ip);
    if (ipLocked) return refuse(new Reply(454, `4.7.0 Too many failed authentication attempts from this address; try again in ${ipLocked} seconds`));
    const key = AuthLockout.key(credentials.username, ip);
    const locked = await lockout.lockedFor(key);
    if (locked) return refuse(new Reply(454, `4.7.0 Too many failed authentication attempts; try again in ${locked} seconds`));
    const account = await authenticateSmtp(store, credentials.username, credentials.password);
    if (!account) {
      await Promise.all([lockout.fail(key), ipLockout.fail(ip)]);
      // The password itself is never logged.
      log?.warn({ username: credentials.username, ip }, 'smtp auth failed');
      return refuse(new Reply(535, '5.7.8 Authentication credentials invalid'));
    }
    await lockout.succeed(key);
    const s = session.state;
    holdConnection(s, account);
    s.authenticated = account;
    return account.name;
  }

  function mailFrom(session: SmtpSession<SessionState>, path: SmtpPath): void | Promise<void> {
    if (closing) throw new Reply(421, '4.3.2 Service shutting down, try again later');
    const fromDomain = domainOf(path.address);
    if (!fromDomain) throw new Reply(553, '5.1.7 The envelope sender needs a domain (null sender not accepted for submission)');
    const s = session.state;
    const domainOrWait = sendingDomain(fromDomain);
    const accountOrWait = s.authenticated ? freshAccount(s.authenticated.id) : allowedAccounts(session.remoteAddress);
    if (domainOrWait instanceof Promise || accountOrWait instanceof Promise) {
      return Promise.all([domainOrWait, accountOrWait]).then(([d, a]) => openTransaction(session, fromDomain, d, a));
    }
    return openTransaction(session, fromDomain, domainOrWait, accountOrWait);
  }

  function openTransaction(session: SmtpSession<SessionState>, fromDomain: string, domain: SendingDomainInfo | null, found: SendingAccount | SendingAccount[] | null): void | Promise<void> {
    const s = session.state;
    let account: SendingAccount | null;
    if (Array.isArray(found)) {
      // Without AUTH only the client addresses an account lists may submit: never an open relay.
      account = found.find((a) => a.tenantId === domain?.tenantId) ?? found[0] ?? null;
      if (!account) throw new Reply(530, '5.7.0 Authentication required: relaying denied for unauthenticated clients');
    } else {
      account = found;
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
    const lane = defaultLane(account.tenantId);
    if (lane instanceof Promise) return lane.then((l) => void (s.lane = l));
    s.lane = lane;
  }

  function rcptTo(session: SmtpSession<SessionState>, path: SmtpPath): void {
    const s = session.state;
    const at = path.address.lastIndexOf('@');
    if (at < 1 || at === path.address.length - 1) throw new Reply(501, '5.1.3 Recipient address must be local@domain');
    // An early answer from the quota read at MAIL; the reservation itself happens at commit.
    if (s.quotaLeft !== null && session.rcptTo.length + 1 > s.quotaLeft) {
      throw new Reply(452, `4.7.1 Sending quota exhausted for account ${s.account?.name ?? ''}: ${s.quotaLeft} messages left`);
    }
  }

  async function data(session: SmtpSession<SessionState>, received: ReceivedData): Promise<string> {
    const s = session.state;
    const account = s.account;
    if (!account || !session.mailFrom) throw new Reply(503, '5.5.1 MAIL FROM first');
    const issues = received.issues;
    // What the next hop would refuse or mangle is refused here, while the client can still fix it.
    if (issues.nulLine) throw new Reply(554, `5.6.0 Message refused: line ${issues.nulLine} holds a NUL byte`);
    if (issues.longLine) {
      throw new Reply(554, `5.6.0 Message refused: line ${issues.longLine} is ${issues.longLineLength} octets long; the limit is 998 (RFC 5322 2.1.1): encode long lines as quoted-printable or base64`);
    }
    const raw = received.raw!;
    const mailFrom = session.mailFrom.address;
    const envelopeDomain = domainOf(mailFrom);
    const headers = readHeaders(raw);
    await checkFrom(headers, { tenantId: account.tenantId, envelopeDomain, sendingDomain });
    const messageId = newId('msg');
    const prepared = prepareSubmitted(raw, headers, {
      clientIp: session.remoteAddress, helo: session.helo, hostname: options.hostname, queueId: messageId,
      tls: session.secure, authenticated: session.user !== null, fromDomain: envelopeDomain, now: new Date(),
    });
    let lane = prepared.lane ?? s.lane;
    let queuedRaw = prepared.raw;
    if (options.inspect) {
      const decision = await options.inspect({ tenantId: account.tenantId, accountId: account.id, lane, mailFrom, recipients: session.rcptTo.map((r) => r.address), source: 'smtp', raw: prepared.raw });
      if (decision.reject) throw new Reply(decision.reject.code, `${decision.reject.enhanced} ${decision.reject.message}`);
      if (decision.raw) queuedRaw = decision.raw;
      if (decision.lane) lane = decision.lane;
    }
    let outcome;
    try {
      outcome = await commits.submit({
        tenantId: account.tenantId, accountId: account.id, lane, mailFrom,
        recipients: session.rcptTo.map((r) => ({ email: r.address })), raw: queuedRaw, messageId,
        headerMessageId: prepared.headerMessageId, source: 'smtp', clientIp: session.remoteAddress,
      });
    } catch (err) {
      if (err instanceof AppError && err.kind === 'validation') throw new Reply(554, `5.6.0 ${err.message}`);
      faults.report(log, err, 'storing a submitted message failed');
      if (isStorageFull(err)) {
        store.reclaimSpace();
        throw new Reply(452, '4.3.1 Insufficient system storage, try again later');
      }
      throw new Reply(451, '4.3.0 Temporary failure storing the message, try again later');
    }
    if (!outcome.ok) {
      if (outcome.reason === 'disabled') throw new Reply(550, `5.7.1 ${outcome.message}`);
      if (outcome.reason === 'held') throw new Reply(451, `4.7.1 ${outcome.message}`);
      throw new Reply(452, `4.7.1 Sending quota exhausted: ${outcome.message}`);
    }
    if (s.quotaLeft !== null) s.quotaLeft -= session.rcptTo.length;
    return `2.0.0 Ok: queued as ${outcome.result.messageId}`;
  }

  const server = new SmtpServer<SessionState>({
    observe: { session: () => smtpSessions.inc({ listener: 'submission' }), refusal: (code: number) => smtpRejects.inc({ listener: 'submission', class: code >= 500 ? '5xx' : '4xx' }) },
    name: options.hostname,
    banner: 'Fanout submission',
    maxMessageBytes: options.maxMessageBytes,
    greetingDelayMs: options.greetingDelayMs ?? 0,
    tls,
    // AUTH is optional at the protocol level: clients on an account's allow-list may submit
    // without it; everyone else is refused at MAIL FROM, so nothing relays.
    auth: true,
    maxRecipients: options.maxRecipients ?? 1000,
    log,
    handlers: {
      state: () => ({ authenticated: null, account: null, counted: null, lane: 'transactional', quotaLeft: null }),
      auth, mailFrom, rcptTo, data,
      close(session) {
        if (session.state.counted) connections.close(session.state.counted);
        session.state.counted = null;
      },
    },
  });
  const port = await server.listen(options.port, options.host);
  const implicitPort = options.implicitTlsPort === null ? null : await server.listen(options.implicitTlsPort, options.host, true);
  log?.info({ port, implicitTlsPort: implicitPort, selfSignedCertificate: tls.selfSigned }, 'smtp submission listening');

  return {
    port,
    implicitTlsPort: implicitPort,
    commits,
    async close() {
      closing = true;
      await server.close(options.shutdownGraceMs ?? 3000);
      // Whatever was received is either committed (and answered 250) or answered with an error.
      await commits.flushed();
    },
  };
}
