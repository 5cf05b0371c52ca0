import net from 'node:net';
import type { RouteHost } from './routing.ts';
import { classifyThrottle, parseSmtpReply } from './replies.ts';
import { EgressInputError, describe, resultOf, validateJob } from './attempt.ts';
import type { AttemptResult, EgressJob } from './attempt.ts';
import { SmtpClient, SmtpClientError } from './smtp-client.ts';
import type { TransactionOutcome } from './smtp-client.ts';
import { ShapingTable } from './shaping.ts';
import type { SiteLimits } from './shaping.ts';
import { SiteThrottle } from './throttle.ts';
import type { AdoptedBackoff, ThrottleOptions, ThrottleSnapshot } from './throttle.ts';

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
  throttle?: Omit<ThrottleOptions, 'now' | 'onChange'>;
  /** Limits shared by every node of the cluster (PostgreSQL); absent: this node's alone. */
  shared?: SharedEgressLimits;
  now?: () => number;
}

/**
 * What egress needs from cluster-wide limits (the cluster capability provides it): connection
 * slots per (source IP, site), a shared rate limiter taken in batches, and back-off states.
 */
export interface SharedEgressLimits {
  readonly nodeId: string;
  acquireConnection(key: string, limit: number): Promise<number | null>;
  releaseConnection(key: string, slot: number): void | Promise<void>;
  takeRate(key: string, n: number, perMinute: number): Promise<number>;
  publishBackoff(key: string, state: AdoptedBackoff): void;
  backoffs(): ReadonlyMap<string, AdoptedBackoff & { updatedAt: number; updatedBy: string }>;
}

/** Grants older than this are not used: the shared limiter counted them in a window now past. */
const STALE_GRANT_MS = 1000;
/** A node without a connection slot asks again this often while it has work for the site. */
const SLOT_RETRY_MS = 200;

interface Session {
  client: SmtpClient;
  host: string;
  tls: boolean;
  /** Transactions handed to this session so far. */
  sent: number;
  /** Transactions handed over and not settled. */
  inFlight: number;
  /** Listed in #ready (it has room for another transaction). */
  ready: boolean;
  dead: boolean;
  lastUsed: number;
  /** QUIT sent, socket not closed yet: still a connection as far as the site can tell. */
  retiring: boolean;
  closed: boolean;
  /** The cluster-wide connection slot it holds (shared limits), else null. */
  slot: number | null;
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
  readonly #opts: Required<Omit<EgressOptions, 'limitsFor' | 'throttle' | 'now' | 'shared'>>;
  readonly #now: () => number;
  #hosts: RouteHost[];
  readonly #sessions = new Set<Session>();
  /** Sessions that can take another transaction now (idle, or pipelining with room). */
  readonly #ready: Session[] = [];
  #waiting: Waiting[] = [];
  #waitHead = 0;
  #opening = 0;
  #retiring = 0;
  #timer: NodeJS.Timeout | null = null;
  #closing = false;
  /** A stop past its bound: nothing new starts, nothing is moved to a new session. */
  #aborted = false;
  readonly #shared: SharedEgressLimits | undefined;
  /** Sends granted by the shared limiter: `left` more, the next at `at`, `every` ms apart. */
  #grant = { at: 0, left: 0, every: 0 };
  #granting = false;
  #slotTimer: NodeJS.Timeout | null = null;
  /** The newest shared back-off state applied here. */
  adoptedAt = 0;
  lastActive: number;

  constructor(site: string, sourceIp: string | undefined, hosts: RouteHost[], limits: SiteLimits, opts: EgressOptions) {
    this.site = site;
    this.sourceIp = sourceIp;
    this.key = `${sourceIp ?? ''}|${site}`;
    this.#hosts = hosts;
    this.#now = opts.now ?? Date.now;
    this.#shared = opts.shared;
    const shared = opts.shared;
    const key = this.key;
    this.throttle = new SiteThrottle(limits, { ...opts.throttle, now: this.#now, onChange: shared ? (b) => shared.publishBackoff(key, b) : undefined });
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
    for (const s of this.#sessions) if (s.inFlight > 0) n++;
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
    // With cluster-wide slots an idle session holds a slot another node may be waiting for.
    const cutoff = this.#now() - (this.#shared ? Math.min(this.#opts.idleMs, 500) : this.#opts.idleMs);
    for (let i = this.#ready.length - 1; i >= 0; i--) {
      const s = this.#ready[i]!;
      if (s.inFlight === 0 && (force || s.lastUsed <= cutoff)) {
        this.#ready.splice(i, 1);
        s.ready = false;
        this.#retire(s);
      }
    }
  }

  /** Resolves every job not yet on a session as withdrawn (nothing sent); returns how many. */
  withdraw(): number {
    let n = 0;
    for (let w = this.#shift(); w; w = this.#shift()) {
      n++;
      w.resolve({ mxHost: '', tls: false, withdrawn: true, perRecipient: w.job.recipients.map((recipient) => ({ recipient, outcome: 'deferred', replyCode: null, enhancedStatus: '4.3.2', text: 'withdrawn: the node is shutting down' })) });
    }
    return n;
  }

  /**
   * Closes sessions at once: transactions on them end unfinished (deferred). Sessions whose
   * content is out and awaits its final reply are left to finish unless `all`: closing those
   * leaves it unknown whether the message arrived. Returns the sessions left open.
   */
  abort(all: boolean): number {
    this.#closing = true;
    this.#aborted = true;
    this.withdraw();
    let left = 0;
    for (const s of [...this.#sessions]) {
      if (!all && s.client.awaitingFinalReply) {
        left++;
        s.client.sendNoMoreContent();
        continue;
      }
      s.dead = true;
      s.client.close();
    }
    return left;
  }

  /** Waits for queued and running transactions, then closes every session. */
  async close(): Promise<void> {
    this.#closing = true;
    // Sessions still connecting are not waited for: with nothing queued they are let go as
    // soon as they open (#release), and a stop does not wait out a connect timeout.
    while (!this.#aborted && (this.queued > 0 || this.busy > 0)) await new Promise((r) => setTimeout(r, 10));
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#slotTimer) clearTimeout(this.#slotTimer);
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
    if (this.#aborted) {
      this.withdraw();
      return;
    }
    while (this.queued > 0) {
      if (this.throttle.state === 'suspended') {
        const snap = this.throttle.snapshot();
        for (let w = this.#shift(); w; w = this.#shift()) w.resolve(this.#suspendedResult(w.job, snap));
        return;
      }
      const limits = this.throttle.limits();
      const session = this.#ready.pop();
      if (!session) {
        // With cluster-wide slots, a node just refused one asks again only after a pause, and
        // asks for one slot at a time: the others' sessions hold them.
        if (this.#shared && (this.#slotTimer || this.#opening > 0)) return;
        const room = this.#shared ? Math.min(1, limits.maxConnections - this.#sessions.size - this.#retiring) : limits.maxConnections - this.#sessions.size - this.#opening - this.#retiring;
        const want = this.queued - this.#opening;
        for (let i = 0; i < Math.min(room, want); i++) void this.#open();
        return;
      }
      session.ready = false;
      if (this.#sessions.size > limits.maxConnections && session.inFlight === 0) {
        // The site was slowed: let surplus sessions go as they come free.
        this.#retire(session);
        continue;
      }
      const wait = this.#reserve();
      if (wait > 0) {
        this.#makeReady(session);
        this.#timer = setTimeout(() => {
          this.#timer = null;
          this.#pump();
        }, wait);
        return;
      }
      this.#run(session, this.#shift()!);
    }
  }

  /**
   * A send slot: 0 to go now, else ms to wait. With shared limits a rate-limited site's sends
   * come from batches the cluster's limiter granted (one round trip a batch); the local
   * throttle still decides suspension and its slowed rate is the one asked for.
   */
  #reserve(): number {
    const perMinute = this.throttle.limits().messagesPerMinute;
    if (!this.#shared || perMinute <= 0 || this.throttle.state === 'suspended') return this.throttle.reserve();
    const now = this.#now();
    while (this.#grant.left > 0 && this.#grant.at < now - STALE_GRANT_MS) {
      this.#grant.left--;
      this.#grant.at += this.#grant.every;
    }
    if (this.#grant.left > 0) {
      if (this.#grant.at > now) return Math.max(1, Math.ceil(this.#grant.at - now));
      this.#grant.left--;
      this.#grant.at += this.#grant.every;
      return 0;
    }
    if (!this.#granting) {
      this.#granting = true;
      // A second's worth at most, and no more than is waiting: grants not used are lost.
      const n = Math.max(1, Math.min(this.queued, Math.ceil(perMinute / 60), 200));
      this.#shared.takeRate(this.key, n, perMinute).then((first) => {
        this.#grant = { at: first, left: n, every: 60_000 / perMinute };
      }, () => {
        // Store away: no grant; asked again at the next pump.
      }).finally(() => {
        this.#granting = false;
        if (this.#timer) {
          clearTimeout(this.#timer);
          this.#timer = null;
        }
        this.#pump();
      });
    }
    return 250;
  }

  /** Applies a back-off another node published (called by Egress every sweep). */
  adopt(b: AdoptedBackoff & { updatedAt: number }): void {
    if (b.updatedAt <= this.adoptedAt) return;
    this.adoptedAt = b.updatedAt;
    this.throttle.adopt(b);
    if (this.throttle.state === 'suspended' && this.queued > 0) this.#pump();
  }

  /** Lists a session that can take another transaction: none in flight, or one when it pipelines. */
  #makeReady(s: Session): void {
    if (s.ready || s.dead) return;
    const depth = s.client.pipelining ? 2 : 1;
    if (s.inFlight >= depth || s.sent >= this.throttle.limits().messagesPerConnection) return;
    s.ready = true;
    // Sessions with nothing in flight are taken first (pop): they answer soonest.
    if (s.inFlight === 0) this.#ready.push(s);
    else this.#ready.unshift(s);
  }

  async #open(): Promise<void> {
    this.#opening++;
    let slot: number | null = null;
    if (this.#shared) {
      // The connection limit holds for the cluster: a session needs one of the site's slots.
      slot = await this.#shared.acquireConnection(this.key, this.throttle.limits().maxConnections).catch(() => null);
      if (slot === null) {
        this.#opening--;
        if (!this.#slotTimer && this.queued > 0) {
          this.#slotTimer = setTimeout(() => {
            this.#slotTimer = null;
            this.#pump();
          }, SLOT_RETRY_MS);
        }
        return;
      }
    }
    let lastError: SmtpClientError | null = null;
    let session: Session | null = null;
    for (const h of this.#hosts) {
      try {
        session = await this.#connect(h, true, slot);
        break;
      } catch (err) {
        lastError = err as SmtpClientError;
        if (lastError.code === 'ETLS' || lastError.duringStartTls) {
          // Opportunistic TLS: a failed handshake must not stop delivery; retry in the clear.
          try {
            session = await this.#connect(h, false, slot);
            break;
          } catch (err2) {
            lastError = err2 as SmtpClientError;
          }
        }
        if (lastError.response) {
          const r = parseSmtpReply(lastError.response);
          this.throttle.onReply(r.code, r.enhancedStatus, r.text);
        }
      }
    }
    this.#opening--;
    if (!session && slot !== null) void this.#shared!.releaseConnection(this.key, slot);
    if (session) {
      this.#sessions.add(session);
      this.#release(session);
      return;
    }
    // No host answered. Jobs wait for a live session if there is one; otherwise they are
    // all deferred now rather than each walking the host list through the same timeouts.
    if (this.#sessions.size === 0 && this.#opening === 0) {
      const hosts = this.#hosts.map((h) => `${h.host}:${h.port}`).join(', ');
      const err = lastError ?? new SmtpClientError('ECONNECTION', 'no host');
      const reply = err.response ? parseSmtpReply(err.response) : null;
      const text = reply ? `${reply.text} (connecting to ${hosts})` : describe(err, `connecting to ${hosts}`);
      for (let w = this.#shift(); w; w = this.#shift()) {
        w.resolve({ mxHost: '', tls: false, perRecipient: w.job.recipients.map((recipient) => ({ recipient, outcome: 'deferred', replyCode: reply?.code ?? null, enhancedStatus: reply?.enhancedStatus ?? null, text })) });
      }
    } else {
      this.#pump();
    }
  }

  async #connect(h: RouteHost, startTls: boolean, slot: number | null): Promise<Session> {
    const client = await SmtpClient.connect({
      host: h.host, port: h.port, localAddress: this.sourceIp, heloName: this.#opts.heloName, startTls,
      // Opportunistic: any certificate is better than plaintext; MTA-STS/DANE would be the place for checks.
      servername: net.isIP(h.host) ? undefined : h.host,
      connectTimeoutMs: this.#opts.connectTimeoutMs, greetingTimeoutMs: this.#opts.greetingTimeoutMs, socketTimeoutMs: this.#opts.socketTimeoutMs,
      rsetBetweenMessages: this.#opts.rsetBetweenMessages,
    });
    const session: Session = { client, host: h.host, tls: client.secure, sent: 0, inFlight: 0, ready: false, dead: false, lastUsed: this.#now(), retiring: false, closed: false, slot };
    const releaseSlot = () => {
      if (session.slot !== null) void this.#shared?.releaseConnection(this.key, session.slot);
      session.slot = null;
    };
    void client.closed.then(() => {
      session.dead = true;
      session.closed = true;
      if (session.retiring) {
        session.retiring = false;
        // Our side closes a moment before the server has seen the last FIN; a short grace
        // keeps a replacement from overlapping it at servers that count connections strictly.
        setTimeout(() => {
          releaseSlot();
          this.#retiring--;
          if (this.queued > 0) this.#pump();
        }, RETIRE_GRACE_MS).unref();
      } else {
        setTimeout(releaseSlot, RETIRE_GRACE_MS).unref();
      }
      this.#forget(session);
    });
    return session;
  }

  #run(s: Session, w: Waiting): void {
    const job = w.job;
    s.sent++;
    s.inFlight++;
    s.lastUsed = this.#now();
    void s.client.send({ mailFrom: job.mailFrom, recipients: job.recipients, message: job.message }).then((outcome) => this.#done(s, w, outcome));
    // A pipelining session can take the next transaction at once: its commands then leave
    // with this one's content.
    this.#makeReady(s);
  }

  #done(s: Session, w: Waiting, outcome: TransactionOutcome): void {
    s.inFlight--;
    const job = w.job;
    if (this.#staleSession(s, w, outcome)) {
      // The server had closed this kept session (idle timeout) before it answered any
      // recipient of this transaction, so nothing was accepted: run the job on a fresh session.
      w.moved = true;
      this.#retire(s);
      if (this.#waitHead > 0) this.#waiting[--this.#waitHead] = w;
      else this.#waiting.unshift(w);
      this.#pump();
      return;
    }
    if (outcome.error) s.dead = true;
    const result = resultOf(s, job, outcome);
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
    this.#release(s);
  }

  #staleSession(s: Session, w: Waiting, o: TransactionOutcome): boolean {
    if (this.#aborted || w.moved || s.sent <= 1 || !o.error || o.local || o.error.code === 'ESTREAM' || o.error.code === 'ETIMEDOUT') return false;
    if (!Buffer.isBuffer(w.job.message)) return false; // a stream may be partly consumed
    if (o.data || o.rcpt.some((r) => r !== null)) return false;
    return !(o.mail && o.mail.code >= 400);
  }

  /** After a transaction settles (or a session opens): keep it for the next, or let it go. */
  #release(s: Session): void {
    if (s.dead || !s.client.alive) {
      s.dead = true;
      if (s.inFlight === 0) this.#retire(s);
      else this.#forget(s);
      this.#pump();
      return;
    }
    s.lastUsed = this.#now();
    if (s.inFlight === 0 && (s.sent >= this.throttle.limits().messagesPerConnection || (this.#closing && this.queued === 0))) {
      this.#retire(s);
      this.#pump();
      return;
    }
    this.#makeReady(s);
    this.#pump();
  }

  #retire(s: Session): void {
    s.dead = true;
    if (!s.closed && !s.retiring) {
      s.retiring = true;
      this.#retiring++;
    }
    this.#forget(s);
    s.client.quit();
  }

  #forget(s: Session): void {
    if (s.ready) {
      const i = this.#ready.indexOf(s);
      if (i >= 0) this.#ready.splice(i, 1);
      s.ready = false;
    }
    if (!this.#sessions.delete(s)) return;
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
      const b = this.#opts.shared?.backoffs().get(key);
      if (b && b.updatedBy !== this.#opts.shared!.nodeId) p.adopt(b);
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

  /** Shutdown: every job not yet on a session is handed back unsent; new jobs are refused. */
  withdraw(): void {
    this.#closed = true;
    for (const p of this.#pools.values()) p.withdraw();
  }

  /** Shutdown past its bound: closes sessions now (see EgressPool.abort); returns those left open. */
  abort(all = true): number {
    this.#closed = true;
    let left = 0;
    for (const p of this.#pools.values()) left += p.abort(all);
    return left;
  }

  /** Lets running and queued transactions finish, then QUITs every session. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }

  #sweep(): void {
    const now = (this.#opts.now ?? Date.now)();
    const shared = this.#opts.shared;
    for (const [key, p] of this.#pools) {
      // Back-off another node's replies started holds here too.
      const b = shared?.backoffs().get(key);
      if (b && b.updatedBy !== shared!.nodeId) p.adopt(b);
      p.sweep();
      // Forget pools unused for 10 minutes unless they carry back-off state worth keeping.
      if (p.sessions === 0 && p.queued === 0 && p.throttle.state === 'normal' && now - p.lastActive > 600_000) this.#pools.delete(key);
    }
  }
}
