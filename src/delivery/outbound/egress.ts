import net from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { RouteHost } from './routing.ts';
import { classifyThrottle, parseSmtpReply } from './replies.ts';
import { EgressInputError, describe, isProtocolReply, resultFromError, resultFromInfo, validateJob } from './attempt.ts';
import type { AttemptResult, EgressJob } from './attempt.ts';
import { tuneDataPath } from './smtp-client.ts';
import type { Conn, SendInfo, SmtpError } from './smtp-client.ts';
import { ShapingTable } from './shaping.ts';
import type { SiteLimits } from './shaping.ts';
import { SiteThrottle } from './throttle.ts';
import type { ThrottleOptions, ThrottleSnapshot } from './throttle.ts';

const RETIRE_GRACE_MS = 50;

export { EgressInputError, validateJob } from './attempt.ts';
export type { EgressJob, AttemptResult, RecipientResult, RecipientOutcome } from './attempt.ts';
export { isCleanSmtpData } from './smtp-client.ts';

/**
 * The SMTP client side. One EgressPool per (source IP, site) keeps reusable sessions to the
 * site's MX hosts within the site's limits (concurrent sessions, messages per session with
 * RSET between them, messages per minute) and turns every reply into a per-recipient
 * outcome. It never throws for what the remote side does: refusals, drops and timeouts come
 * back as outcomes; only malformed jobs are rejected.
 */
export interface EgressOptions {
  heloName: string;
  /** Limits for a site; by default the built-in presets matched on the host names. */
  limitsFor?: (site: string, hosts: readonly RouteHost[]) => SiteLimits;
  connectTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
  /** Idle sessions are closed (QUIT) after this long. */
  idleMs?: number;
  /** RSET after every transaction on a kept session (default true). */
  rsetBetweenMessages?: boolean;
  throttle?: Omit<ThrottleOptions, 'now'>;
  now?: () => number;
}

interface Session {
  conn: Conn;
  host: string;
  tls: boolean;
  sent: number;
  busy: boolean;
  dead: boolean;
  lastUsed: number;
  /** Set per message: cork the socket from the body's start to the terminating dot. */
  corkBody: boolean;
  /** QUIT sent, socket not closed yet: still a connection as far as the site can tell. */
  retiring: boolean;
  closed: boolean;
}

interface Waiting {
  job: EgressJob;
  resolve(r: AttemptResult): void;
  /** Already moved once off a kept session that turned out to be dead. */
  moved?: boolean;
}

export class EgressPool {
  readonly key: string;
  readonly site: string;
  readonly sourceIp: string | undefined;
  readonly throttle: SiteThrottle;
  readonly #opts: Required<Omit<EgressOptions, 'limitsFor' | 'throttle' | 'now'>>;
  readonly #now: () => number;
  #hosts: RouteHost[];
  readonly #sessions = new Set<Session>();
  readonly #idle: Session[] = [];
  #waiting: Waiting[] = [];
  #waitHead = 0;
  #opening = 0;
  #retiring = 0;
  #timer: NodeJS.Timeout | null = null;
  #closing = false;
  lastActive: number;

  constructor(site: string, sourceIp: string | undefined, hosts: RouteHost[], limits: SiteLimits, opts: EgressOptions) {
    this.site = site;
    this.sourceIp = sourceIp;
    this.key = `${sourceIp ?? ''}|${site}`;
    this.#hosts = hosts;
    this.#now = opts.now ?? Date.now;
    this.throttle = new SiteThrottle(limits, { ...opts.throttle, now: this.#now });
    this.#opts = {
      heloName: opts.heloName,
      connectTimeoutMs: opts.connectTimeoutMs ?? 30_000,
      greetingTimeoutMs: opts.greetingTimeoutMs ?? 30_000,
      socketTimeoutMs: opts.socketTimeoutMs ?? 300_000,
      idleMs: opts.idleMs ?? 5_000,
      rsetBetweenMessages: opts.rsetBetweenMessages ?? true,
    };
    this.lastActive = this.#now();
  }

  get sessions(): number {
    return this.#sessions.size + this.#opening + this.#retiring;
  }

  get queued(): number {
    return this.#waiting.length - this.#waitHead;
  }

  get busy(): number {
    let n = 0;
    for (const s of this.#sessions) if (s.busy) n++;
    return n;
  }

  send(job: EgressJob): Promise<AttemptResult> {
    this.#hosts = job.hosts;
    this.lastActive = this.#now();
    const snap = this.throttle.state === 'suspended' ? this.throttle.snapshot() : null;
    if (snap) return Promise.resolve(this.#suspendedResult(job, snap));
    return new Promise((resolve) => {
      this.#waiting.push({ job, resolve });
      this.#pump();
    });
  }

  /** QUITs sessions idle for longer than idleMs (or all idle ones with force). */
  sweep(force = false): void {
    const cutoff = this.#now() - this.#opts.idleMs;
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const s = this.#idle[i]!;
      if (force || s.lastUsed <= cutoff) {
        this.#idle.splice(i, 1);
        this.#retire(s);
      }
    }
  }

  /** Waits for queued and running transactions, then closes every session. */
  async close(): Promise<void> {
    this.#closing = true;
    while (this.queued > 0 || this.busy > 0 || this.#opening > 0) await new Promise((r) => setTimeout(r, 10));
    if (this.#timer) clearTimeout(this.#timer);
    this.sweep(true);
  }

  #suspendedResult(job: EgressJob, snap: ThrottleSnapshot): AttemptResult {
    const until = new Date(snap.suspendedUntil ?? this.#now()).toISOString();
    const text = `site ${this.site} suspended by back-off until ${until}${snap.lastReason ? ` after: ${snap.lastReason}` : ''}`;
    return { mxHost: '', tls: false, perRecipient: job.recipients.map((recipient) => ({ recipient, outcome: 'deferred', replyCode: null, enhancedStatus: '4.4.5', text })) };
  }

  #shift(): Waiting | undefined {
    if (this.#waitHead >= this.#waiting.length) return undefined;
    const w = this.#waiting[this.#waitHead++];
    if (this.#waitHead > 1024 && this.#waitHead * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#waitHead);
      this.#waitHead = 0;
    }
    return w;
  }

  #pump(): void {
    if (this.#timer) return;
    while (this.queued > 0) {
      if (this.throttle.state === 'suspended') {
        const snap = this.throttle.snapshot();
        for (let w = this.#shift(); w; w = this.#shift()) w.resolve(this.#suspendedResult(w.job, snap));
        return;
      }
      const limits = this.throttle.limits();
      const session = this.#idle.pop();
      if (!session) {
        const room = limits.maxConnections - this.#sessions.size - this.#opening - this.#retiring;
        const want = this.queued - this.#opening;
        for (let i = 0; i < Math.min(room, want); i++) void this.#open();
        return;
      }
      if (this.#sessions.size > limits.maxConnections) {
        // The site was slowed: let surplus sessions go as they come free.
        this.#retire(session);
        continue;
      }
      const wait = this.throttle.reserve();
      if (wait > 0) {
        this.#idle.push(session);
        this.#timer = setTimeout(() => {
          this.#timer = null;
          this.#pump();
        }, wait);
        return;
      }
      this.#run(session, this.#shift()!);
    }
  }

  async #open(): Promise<void> {
    this.#opening++;
    let lastError: SmtpError | null = null;
    let session: Session | null = null;
    for (const h of this.#hosts) {
      try {
        session = await this.#connect(h, false);
        break;
      } catch (err) {
        lastError = err as SmtpError;
        if (lastError.code === 'ETLS' || lastError.duringStartTls) {
          // Opportunistic TLS: a failed handshake must not stop delivery; retry in the clear.
          try {
            session = await this.#connect(h, true);
            break;
          } catch (err2) {
            lastError = err2 as SmtpError;
          }
        }
        if (lastError.response) {
          const r = parseSmtpReply(lastError.response);
          this.throttle.onReply(r.code, r.enhancedStatus, r.text);
        }
      }
    }
    this.#opening--;
    if (session) {
      this.#sessions.add(session);
      this.#release(session);
      return;
    }
    // No host answered. Jobs wait for a live session if there is one; otherwise they are
    // all deferred now rather than each walking the host list through the same timeouts.
    if (this.#sessions.size === 0 && this.#opening === 0) {
      const hosts = this.#hosts.map((h) => `${h.host}:${h.port}`).join(', ');
      const err = lastError ?? ({ message: 'no host', code: 'ECONNECTION' } as SmtpError);
      const reply = err.response ? parseSmtpReply(err.response) : null;
      const text = reply ? `${reply.text} (connecting to ${hosts})` : describe(err, `connecting to ${hosts}`);
      for (let w = this.#shift(); w; w = this.#shift()) {
        w.resolve({ mxHost: '', tls: false, perRecipient: w.job.recipients.map((recipient) => ({ recipient, outcome: 'deferred', replyCode: reply?.code ?? null, enhancedStatus: reply?.enhancedStatus ?? null, text })) });
      }
    } else {
      this.#pump();
    }
  }

  #connect(h: RouteHost, plain: boolean): Promise<Session> {
    const conn = new SMTPConnection({
      host: h.host,
      port: h.port,
      name: this.#opts.heloName,
      localAddress: this.sourceIp,
      opportunisticTLS: true,
      ignoreTLS: plain,
      // Opportunistic: any certificate is better than plaintext; MTA-STS/DANE would be the place for checks.
      tls: { rejectUnauthorized: false, servername: net.isIP(h.host) ? undefined : h.host },
      connectionTimeout: this.#opts.connectTimeoutMs,
      greetingTimeout: this.#opts.greetingTimeoutMs,
      socketTimeout: this.#opts.socketTimeoutMs,
      allowInternalNetworkInterfaces: true,
      logger: false,
      debug: false,
    }) as Conn;
    return new Promise((resolve, done) => {
      let settled = false;
      // Marks failures that happened inside a STARTTLS upgrade, so #open can retry in the clear.
      const reject = (err: SmtpError) => {
        if (conn.upgrading && !conn.secure) err.duringStartTls = true;
        done(err);
      };
      const session: Session = { conn, host: h.host, tls: false, sent: 0, busy: false, dead: false, lastUsed: this.#now(), corkBody: false, retiring: false, closed: false };
      tuneDataPath(conn, () => session.corkBody);
      conn.on('error', (err: SmtpError) => {
        session.dead = true;
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
      conn.once('end', () => {
        session.dead = true;
        session.closed = true;
        if (session.retiring) {
          session.retiring = false;
          // Our side closes a moment before the server has seen the last FIN; a short grace
          // keeps a replacement from overlapping it at servers that count connections strictly.
          setTimeout(() => {
            this.#retiring--;
            if (this.queued > 0) this.#pump();
          }, RETIRE_GRACE_MS).unref();
        }
        if (!settled) {
          settled = true;
          reject(Object.assign(new Error('connection closed during setup'), { code: 'ECONNECTION' }));
        }
        this.#forget(session);
      });
      conn.connect((err?: SmtpError) => {
        if (settled) return;
        settled = true;
        if (err) {
          conn.close();
          reject(err);
          return;
        }
        session.tls = conn.secure;
        resolve(session);
      });
    });
  }

  #run(s: Session, w: Waiting): void {
    s.busy = true;
    const job = w.job;
    const conn = s.conn;
    // Corking holds the whole body in the socket's buffer: only for messages given whole.
    s.corkBody = Buffer.isBuffer(job.message) && job.message.length <= 4 * 1024 * 1024;
    const envelope = { from: job.mailFrom, to: job.recipients, size: Buffer.isBuffer(job.message) ? job.message.length : undefined };
    const done = (err: SmtpError | null, info?: SendInfo) => {
      if (err && this.#staleSession(s, w, err)) {
        // The server had closed this kept session (idle timeout) before it answered anything
        // in this transaction, so nothing was accepted: run the job on a fresh session.
        w.moved = true;
        this.#retire(s);
        if (this.#waitHead > 0) this.#waiting[--this.#waitHead] = w;
        else this.#waiting.unshift(w);
        this.#pump();
        return;
      }
      s.sent++;
      if (err && !isProtocolReply(err)) s.dead = true;
      const result = err ? resultFromError({ host: s.host, tls: s.tls, envelope: s.conn._envelope }, job, err) : resultFromInfo(s, job, info!);
      // One transaction is one signal to the site, however many recipients it carried.
      let delivered = 0;
      let signal: 'none' | 'slow' | 'suspend' = 'none';
      let reason = '';
      for (const r of result.perRecipient) {
        if (r.outcome === 'delivered') delivered++;
        else if (r.replyCode !== null && r.replyCode >= 400 && signal !== 'suspend') {
          const c = classifyThrottle(r.replyCode, r.enhancedStatus, r.text);
          if (c !== 'none' && c !== signal) {
            signal = c;
            reason = `${r.replyCode}${r.enhancedStatus ? ` ${r.enhancedStatus}` : ''} ${r.text}`;
          }
        }
      }
      if (signal !== 'none') this.throttle.onThrottle(signal, reason);
      if (delivered) this.throttle.onSuccess(delivered);
      w.resolve(result);
      if (s.dead || s.sent >= this.throttle.limits().messagesPerConnection || this.#closing) {
        this.#retire(s);
        this.#pump();
      } else this.#release(s);
    };
    if (s.sent === 0 || !this.#opts.rsetBetweenMessages) {
      conn.send(envelope, job.message, done);
      return;
    }
    const socket = conn._socket;
    if (socket && conn._supportedExtensions?.includes('PIPELINING') && conn._sendCommand && conn._responseActions && conn._onError) {
      // RFC 2920 lets RSET lead a pipelined group: RSET, MAIL, RCPT... and DATA leave in one
      // write, so the reset costs no round trip. (nodemailer's reset() would wait for the
      // reply and then clear the envelope of the send already under way.)
      socket.cork();
      conn._sendCommand('RSET');
      conn._responseActions.push((str: string) => {
        if (str.charAt(0) !== '2') conn._onError!(new Error('Could not reset session state'), 'EPROTOCOL', str, 'RSET');
      });
      conn.send(envelope, job.message, done);
      socket.uncork();
      return;
    }
    conn.reset((rsetErr) => {
      if (rsetErr) done(rsetErr as SmtpError);
      else conn.send(envelope, job.message, done);
    });
  }

  #staleSession(s: Session, w: Waiting, err: SmtpError): boolean {
    if (w.moved || s.sent === 0 || err.responseCode || err.code === 'EENVELOPE' || err.code === 'EMESSAGE' || err.code === 'ESTREAM') return false;
    if (!Buffer.isBuffer(w.job.message)) return false; // a stream may be partly consumed
    const env = s.conn._envelope || {};
    return !env.accepted?.length && !env.rejected?.length;
  }

  #release(s: Session): void {
    if (s.dead) {
      this.#forget(s);
      this.#pump();
      return;
    }
    s.busy = false;
    s.lastUsed = this.#now();
    this.#idle.push(s);
    this.#pump();
  }

  #retire(s: Session): void {
    s.dead = true;
    if (!s.closed && !s.retiring) {
      s.retiring = true;
      this.#retiring++;
    }
    this.#forget(s);
    try {
      s.conn.quit();
    } catch {
      s.conn.close();
    }
  }

  #forget(s: Session): void {
    if (!this.#sessions.delete(s)) return;
    const i = this.#idle.indexOf(s);
    if (i >= 0) this.#idle.splice(i, 1);
    if (this.queued > 0) this.#pump();
  }
}

/** All pools of this node, keyed by (source IP, site). */
export class Egress {
  readonly #opts: EgressOptions;
  readonly #pools = new Map<string, EgressPool>();
  readonly #limitsFor: (site: string, hosts: readonly RouteHost[]) => SiteLimits;
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(opts: EgressOptions) {
    if (!opts || typeof opts.heloName !== 'string' || !/^[a-z0-9.-]+$/i.test(opts.heloName)) throw new EgressInputError(`egress: heloName ${JSON.stringify(opts?.heloName)} is not a host name`);
    this.#opts = opts;
    const table = new ShapingTable();
    this.#limitsFor = opts.limitsFor ?? ((_site, hosts) => table.shapeFor(hosts.map((h) => h.host)).limits);
    const every = Math.max(50, Math.min(1000, (opts.idleMs ?? 5000) / 2));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  send(job: EgressJob): Promise<AttemptResult> {
    try {
      validateJob(job);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (this.#closed) return Promise.reject(new EgressInputError('egress: closed'));
    return this.pool(job.site, job.sourceIp, job.hosts).send(job);
  }

  /** The pool for (source IP, site), made on first use. */
  pool(site: string, sourceIp: string | undefined, hosts: RouteHost[]): EgressPool {
    const key = `${sourceIp ?? ''}|${site}`;
    let p = this.#pools.get(key);
    if (!p) {
      p = new EgressPool(site, sourceIp, hosts, this.#limitsFor(site, hosts), this.#opts);
      this.#pools.set(key, p);
    }
    return p;
  }

  /** Back-off state of a site (for the sender: skip claiming work for suspended sites). */
  status(site: string, sourceIp?: string): ThrottleSnapshot | null {
    return this.#pools.get(`${sourceIp ?? ''}|${site}`)?.throttle.snapshot() ?? null;
  }

  stats(): { pools: number; sessions: number; busy: number; queued: number } {
    let sessions = 0, busy = 0, queued = 0;
    for (const p of this.#pools.values()) {
      sessions += p.sessions;
      busy += p.busy;
      queued += p.queued;
    }
    return { pools: this.#pools.size, sessions, busy, queued };
  }

  /** Lets running and queued transactions finish, then QUITs every session. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }

  #sweep(): void {
    const now = (this.#opts.now ?? Date.now)();
    for (const [key, p] of this.#pools) {
      p.sweep();
      // Forget pools unused for 10 minutes unless they carry back-off state worth keeping.
      if (p.sessions === 0 && p.queued === 0 && p.throttle.state === 'normal' && now - p.lastActive > 600_000) this.#pools.delete(key);
    }
  }
}
