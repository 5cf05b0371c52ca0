import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Store } from '../../store/store.ts';
import { FaultLog, isStorageFull } from '../../store/faults.ts';
import type { Lane } from '../tables.ts';
import { DeliveryQueue } from '../queue/claim.ts';
import type { ClaimedRecipient, Completion, QueuedMessage } from '../queue/claim.ts';
import { nextAttempt } from '../outbound/retry.ts';
import type { RetryPolicy } from '../outbound/retry.ts';
import { parseRouteTarget } from '../outbound/routing.ts';
import type { Route } from '../outbound/routing.ts';
import type { AttemptResult, EgressJob } from '../outbound/egress.ts';
import type { ThrottleSnapshot } from '../outbound/throttle.ts';
import type { SiteLimits } from '../outbound/shaping.ts';
import { Batcher } from '../../core/batcher.ts';
import type { DomainSigning } from './keys.ts';

/** What the sender needs from the outbound half; the real classes satisfy it, tests may wrap them. */
export interface SenderDeps {
  resolver: { resolve(domain: string): Promise<Route> };
  egress: {
    send(job: EgressJob): Promise<AttemptResult>;
    status(site: string, sourceIp?: string): ThrottleSnapshot | null;
    pool(site: string, sourceIp: string | undefined, hosts: Route['hosts']): { throttle: { limits(): SiteLimits } };
    /** Shutdown: hands back every job not yet on a session (they resolve `withdrawn`). */
    withdraw?(): void;
    /**
     * Shutdown past its bound: closes sessions; transactions on them end unfinished. `all`
     * false spares sessions waiting for the final reply to content already sent.
     */
    abort?(all?: boolean): number;
  };
  /** DKIM; null sends unsigned (only for tests that look at raw bytes). */
  signer: { sign(message: Buffer, key: { domain: string; selector: string; privateKeyPem: string }): Promise<Buffer> } | null;
  keys: { get(domain: string): Promise<DomainSigning> };
  /** The envelope sender for one recipient (VERP); the submitted sender when absent. */
  returnPath?: (input: { messageId: string; recipientId: string; mailFrom: string; returnPathDomain: string | null }) => string;
  /** Told once per message this node signs, with the bytes as they go on the wire (the archive keeps them). */
  signed?: (message: QueuedMessage, wire: Buffer) => void;
  /** Extension hook: a next hop or source IP for one recipient (`delivery.route`); `defer` holds it for later. */
  chooseRoute?: (r: { tenantId: string; accountId: string; messageId: string; recipient: string; domain: string; lane: string }) => Promise<{ nextHop?: string; sourceIp?: string; defer?: string } | null>;
  /** Extension hook: another reason for a failed reply than the classifier's (`bounce.classify`). */
  reclassify?: (c: { recipient: string | null; replyCode: number | null; status: string | null; text: string; reason: string | null }) => Promise<string | null>;
  /** Failure reason class of a reply (the bounce vocabulary). */
  classify?: (reply: { replyCode: number | null; status: string | null; text: string; command?: string }) => { reason: string };
}

export interface SenderOptions {
  /** Lease owner name: unique per sender node and stable across its restarts. */
  nodeId: string;
  retry: RetryPolicy;
  /**
   * How long a claim holds a row before other nodes may take it. Short (20 s by default): a
   * heartbeat renews the leases of the rows this node is working on every third of it, so a
   * node that dies leaves its rows to the others within one lease.
   */
  leaseMs?: number;
  /**
   * Graceful stop, in all: attempts on the wire may finish until the last third of it (at most
   * the last 5 s); then sessions not yet past their content are closed, and those awaiting
   * the reply to content already sent get the rest.
   */
  stopMs?: number;
  /** Rows claimed per lane per round. */
  batchSize?: number;
  /** Recipients being worked on at once, per lane: transactional has its own room. */
  maxInFlight?: { transactional: number; bulk: number };
  /**
   * Message bytes held for the recipients in flight (both lanes), so a queue of large
   * statements cannot take the node's memory: a claim keeps the rows whose messages fit and
   * hands the rest back at once (at least one row, so any message can go). A message counts
   * once, however many of its recipients are in flight, until the last one's result is
   * committed.
   */
  maxInFlightBytes?: number;
  /** How often to look for due work when idle (a commit wakes the loop earlier). */
  pollMs?: number;
  sourceIp?: string;
  now?: () => number;
  logger?: Logger;
}

interface Job {
  row: ClaimedRecipient;
  route: Route;
  /** Signed message and envelope sender, ready for the wire. */
  body: Buffer;
  mailFrom: string;
  /** The source IP a routing hook chose; the node's otherwise. */
  sourceIp?: string;
}

interface SiteQueue {
  site: string;
  active: number;
  limit: number;
  transactional: Job[];
  bulk: Job[];
}

type Postpone = { kind: 'postpone'; row: ClaimedRecipient; at: number; site: string | null };
type Write = { kind: 'complete'; completion: Completion } | Postpone;

const LANES: Lane[] = ['transactional', 'bulk'];

/** A route to one host a hook named (`host:port`), like a static route. */
function staticRoute(domain: string, target: string): Route {
  const host = parseRouteTarget(target);
  return { domain, site: `${host.host.includes(':') ? `[${host.host}]` : host.host}:${host.port}`, hosts: [host], source: 'static', expiresAt: Number.MAX_SAFE_INTEGER, failure: null };
}

/**
 * The sender loop of one node: claims due recipients from the shared queue (transactional
 * first, each lane with its own capacity), resolves each destination to its MX site, queues it
 * in the site's ready queue (transactional ahead of bulk), and hands it to the egress pool for
 * (source IP, site) within the site's connection limit. Results are written in batches; a row
 * leaves its lease only when its outcome is committed, so a crash re-sends at most what was
 * in flight.
 */
export class Sender {
  readonly queue: DeliveryQueue;
  readonly #deps: SenderDeps;
  readonly #opts: Required<Omit<SenderOptions, 'sourceIp' | 'logger'>> & { sourceIp?: string; logger?: Logger };
  readonly #inflight: Record<Lane, number> = { transactional: 0, bulk: 0 };
  /** Messages whose bodies recipients in flight hold (message id → size, rows), and their total. */
  readonly #heldMessages = new Map<string, { bytes: number; rows: number }>();
  /** Recipient rows counted in #heldMessages (row id → message id). */
  readonly #heldRows = new Map<string, string>();
  #inflightBytes = 0;
  /** Running average size of the messages taken on: sizes the next claim to the budget left. */
  #avgMessageBytes = 0;
  readonly #sites = new Map<string, SiteQueue>();
  readonly #signed = new Map<string, { body: Promise<Buffer>; users: number }>();
  readonly #writer: Batcher<Write>;
  #paused = { accounts: [] as string[], sites: new Set<string>(), at: 0 };
  #stopping = false;
  /** Set when the stop's bound has passed: results are no longer retried, sessions closed. */
  #aborting = false;
  /** Rows this node holds a lease on, from claim until their outcome is committed. */
  readonly #leased = new Set<string>();
  #heartbeat: NodeJS.Timeout | null = null;
  #renewing: Promise<void> | null = null;
  /** Consecutive store failures of the claim loop: its back-off, and log once per outage. */
  #claimFailures = 0;
  readonly #faults = new FaultLog();
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #woken = false;
  readonly stats = { claimed: 0, delivered: 0, deferred: 0, failed: 0, expired: 0, postponed: 0, withdrawn: 0, renewals: 0 };

  constructor(store: Store, deps: SenderDeps, options: SenderOptions) {
    this.#deps = deps;
    this.#opts = {
      leaseMs: 20_000, stopMs: 20_000, batchSize: 500, maxInFlight: { transactional: 1000, bulk: 2000 }, maxInFlightBytes: 256 * 1024 * 1024, pollMs: 500, now: Date.now,
      // Options left undefined keep the defaults.
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SenderOptions,
    };
    this.queue = new DeliveryQueue(store, { owner: options.nodeId, leaseMs: this.#opts.leaseMs });
    // Results wait up to 20 ms for company: one transaction for many, at the price of holding
    // leases a little longer.
    this.#writer = new Batcher((items) => this.#write(items), 2000, 20);
  }

  get inFlight(): number {
    return this.#inflight.transactional + this.#inflight.bulk;
  }

  /** Takes back what this node held when it last stopped or died, then starts the loop. */
  async start(): Promise<void> {
    const returned = await this.queue.releaseOwned(this.#opts.now());
    if (returned) this.#opts.logger?.info({ returned }, 'returned leases held by this node before its restart');
    this.#loop = this.#run();
    const every = Math.max(50, Math.floor(this.#opts.leaseMs / 3));
    this.#heartbeat = setInterval(() => {
      this.#renewing ??= this.#renew().finally(() => {
        this.#renewing = null;
      });
    }, every);
    this.#heartbeat.unref();
  }

  /** Rows leased by this node right now (claimed, outcome not yet committed). */
  get leased(): number {
    return this.#leased.size;
  }

  /**
   * The heartbeat: pushes the lease of every row this node still works on one lease further.
   * A failure (store away) is logged; the next beat tries again. Rows whose lease runs out
   * meanwhile may be taken by another node: a duplicate at worst, never a loss.
   */
  async #renew(): Promise<void> {
    if (!this.#leased.size) return;
    try {
      await this.queue.renew([...this.#leased], this.#opts.now());
      this.stats.renewals++;
    } catch (err) {
      this.#opts.logger?.warn({ err: (err as Error).message }, 'renewing delivery leases failed; retrying at the next heartbeat');
    }
  }

  /** Wakes the loop now (new mail committed, a pause lifted). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /**
   * Graceful stop that never sends twice: claims nothing more; rows not yet handed to egress
   * and jobs egress has not put on a session are handed back unattempted; attempts on the wire
   * get until `stopMs` to finish (their results are written), then their sessions are closed
   * and they are handed back too. Only then are the remaining leases returned, so no row is
   * free for another node while this one may still send it.
   */
  async stop(stopMs = this.#opts.stopMs): Promise<void> {
    const deadline = Date.now() + stopMs;
    this.#stopping = true;
    this.wake();
    await this.#loop;
    const now = this.#opts.now();
    for (const sq of this.#sites.values()) {
      for (const job of sq.transactional.splice(0).concat(sq.bulk.splice(0))) void this.#postpone(job.row, now, job.route.site);
    }
    this.#deps.egress.withdraw?.();
    const cut = deadline - Math.min(5000, stopMs / 3);
    while (this.inFlight > 0 && Date.now() < cut) await sleep(20);
    if (this.inFlight > 0) {
      // Past the bound: end the sessions whose messages have not gone out (nothing arrived,
      // so they go back to the queue); messages already out get the rest for their reply.
      this.#aborting = true;
      const waiting = this.#deps.egress.abort?.(false) ?? 0;
      this.#opts.logger?.warn({ inFlight: this.inFlight, awaitingReply: waiting }, 'stop bound reached: closing sessions still sending');
      while (this.inFlight > 0 && Date.now() < deadline) await sleep(20);
      if (this.inFlight > 0) {
        // Unknown whether these arrived: they go back to the queue (a possible duplicate, never a loss).
        const cutOff = this.#deps.egress.abort?.(true) ?? 0;
        this.#opts.logger?.warn({ sessions: cutOff }, 'closed sessions still awaiting the reply to a message: those messages may arrive twice');
      }
      const hard = Date.now() + 2000;
      while (this.inFlight > 0 && Date.now() < hard) await sleep(20);
    }
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    await this.#renewing;
    await this.#writer.flushed();
    let returned = 0;
    try {
      // Rows still in flight (a result that could not be written) keep their lease: it runs
      // out by itself, and no other node may take them while this one might still send them.
      returned = await this.queue.releaseOwned(this.#opts.now(), [...this.#leased]);
    } catch (err) {
      // The store is away: the leases run out by themselves within one lease length.
      this.#opts.logger?.error({ err: (err as Error).message }, 'returning leases at stop failed; they expire by themselves');
    }
    this.#opts.logger?.info({ returned, stillSending: this.inFlight }, 'sender stopped');
  }

  async #run(): Promise<void> {
    let lastClaim = 0;
    while (!this.#stopping) {
      let short = false;
      let claimed = false;
      try {
        const now = this.#opts.now();
        if (now - this.#paused.at > 1000) await this.#refreshPauses(now);
        // Rows a claim may take so their messages fit the bytes left, judged by the average size.
        const bytesLeft = this.#opts.maxInFlightBytes - this.#inflightBytes;
        const cap = Math.min(this.#opts.batchSize, this.#avgMessageBytes > 0 ? Math.max(1, Math.floor(bytesLeft / this.#avgMessageBytes)) : Infinity);
        if (bytesLeft <= 0) short = true;
        for (const lane of bytesLeft > 0 ? LANES : []) {
          const room = this.#opts.maxInFlight[lane] - this.#inflight[lane];
          const want = Math.min(room, cap);
          // Small top-ups cost a query each; wait for room unless the lane is idle.
          if (want <= 0 || (want < cap / 4 && this.#inflight[lane] > 0)) continue;
          const rows = await this.queue.claim(lane, want, now, { accounts: this.#paused.accounts, sites: [...this.#paused.sites] });
          lastClaim = Date.now();
          claimed = true;
          if (rows.length < want) short = true;
          if (rows.length) {
            for (const r of rows) this.#leased.add(r.id);
            this.#inflight[lane] += rows.length;
            this.stats.claimed += rows.length;
            void this.#dispatch(rows);
          }
        }
        if (this.#claimFailures) this.#opts.logger?.info({ failures: this.#claimFailures }, 'store reachable again: claiming resumed');
        this.#claimFailures = 0;
      } catch (err) {
        // The store is away (restart, fail-over): back off (up to 5 s) and log the outage once.
        if (this.#claimFailures++ === 0) this.#opts.logger?.error({ err: (err as Error).message, storageFull: isStorageFull(err) || undefined }, 'claiming work failed; retrying with back-off');
        if (isStorageFull(err)) this.queue.store.reclaimSpace();
        if (!this.#stopping) await this.#idle(Math.min(5000, 100 * 2 ** Math.min(this.#claimFailures, 6)));
        short = true;
      }
      if (this.#stopping) break;
      // Nothing claimed (every lane waiting for room or bytes), a lane ran dry, or all are full.
      if (short || !claimed || this.#full()) {
        await this.#idle(this.#opts.pollMs);
        // Coalesce the wake-ups of many small commits into one claim; while work is in flight
        // a claim every 50 ms keeps the pipe full with a few large claims instead of many small.
        const gap = lastClaim + (this.inFlight > 0 ? 50 : 10) - Date.now();
        if (gap > 0) await sleep(gap);
      }
    }
  }

  #full(): boolean {
    return LANES.every((l) => this.#opts.maxInFlight[l] - this.#inflight[l] < this.#opts.batchSize / 4);
  }

  #idle(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        this.#woken = false;
        done();
      };
    });
  }

  async #refreshPauses(now: number): Promise<void> {
    const p = await this.queue.paused();
    this.#paused = { accounts: p.accounts, sites: new Set(p.sites), at: now };
  }

  async #dispatch(claimed: ClaimedRecipient[]): Promise<void> {
    let messages: Map<string, QueuedMessage>;
    // The rows this dispatch still owns: all of them until the budget has handed some back.
    let rows = claimed;
    try {
      rows = await this.#fitBudget(claimed);
      messages = await this.queue.loadMessages([...new Set(rows.map((r) => r.messageId))]);
    } catch (err) {
      this.#opts.logger?.error({ err }, 'loading message bodies failed; rows return to the queue');
      for (const row of rows) void this.#postpone(row, this.#opts.now() + 30_000, row.site);
      return;
    }
    await Promise.all(rows.map((row) => this.#prepare(row, messages.get(row.messageId))));
  }

  /**
   * Keeps the claimed rows whose messages fit the byte budget (counting each message once) and
   * hands the others back unattempted, due now; at least one row is always kept.
   */
  async #fitBudget(claimed: ClaimedRecipient[]): Promise<ClaimedRecipient[]> {
    const unknown = [...new Set(claimed.map((r) => r.messageId))].filter((id) => !this.#heldMessages.has(id));
    const sizes = unknown.length ? await this.queue.messageSizes(unknown) : new Map<string, number>();
    const kept: ClaimedRecipient[] = [];
    for (const row of claimed) {
      const held = this.#heldMessages.get(row.messageId);
      const bytes = held ? 0 : sizes.get(row.messageId) ?? 0;
      if (bytes > 0 && kept.length > 0 && this.#inflightBytes + bytes > this.#opts.maxInFlightBytes) {
        void this.#postpone(row, this.#opts.now(), row.site);
        continue;
      }
      kept.push(row);
      if (held) held.rows++;
      else {
        this.#heldMessages.set(row.messageId, { bytes, rows: 1 });
        this.#avgMessageBytes = this.#avgMessageBytes === 0 ? bytes : this.#avgMessageBytes * 0.9 + bytes * 0.1;
      }
      this.#heldRows.set(row.id, row.messageId);
      this.#inflightBytes += bytes;
    }
    return kept;
  }

  async #prepare(row: ClaimedRecipient, message: QueuedMessage | undefined): Promise<void> {
    const now = this.#opts.now();
    if (!message) {
      await this.#finish(this.#completion(row, 'failed', now, { attempted: false, text: 'message body missing from the queue', reason: 'systemerror' }));
      return;
    }
    let route: Route;
    let sourceIp: string | undefined;
    try {
      const chosen = this.#deps.chooseRoute ? await this.#deps.chooseRoute({ tenantId: row.tenantId, accountId: row.accountId, messageId: row.messageId, recipient: row.recipient, domain: row.domain, lane: row.lane }) : null;
      if (chosen?.defer) {
        this.#opts.logger?.warn({ recipient: row.id, why: chosen.defer }, 'routing hook failed: the recipient waits a minute');
        return this.#postpone(row, now + 60_000, null);
      }
      sourceIp = chosen?.sourceIp;
      route = chosen?.nextHop ? staticRoute(row.domain, chosen.nextHop) : await this.#deps.resolver.resolve(row.domain);
    } catch (err) {
      await this.#finish(this.#completion(row, 'failed', now, { attempted: false, enhancedStatus: '5.1.2', text: `bad destination domain: ${(err as Error).message}`, reason: 'hostunknown' }));
      return;
    }
    if (route.failure) {
      const f = route.failure;
      if (f.permanent) await this.#finish(this.#completion(row, 'failed', now, { attempted: true, enhancedStatus: f.enhancedStatus, text: f.text, reason: f.reason }));
      else await this.#deferOrExpire(row, now, { site: null, mxHost: null, replyCode: null, enhancedStatus: f.enhancedStatus, text: f.text, reason: f.reason });
      return;
    }
    if (this.#stopping) return this.#postpone(row, now, route.site);
    if (row.lane === 'bulk' && this.#paused.sites.has(route.site)) return this.#postpone(row, now, route.site);
    const snap = this.#deps.egress.status(route.site, this.#opts.sourceIp);
    // A site in back-off holds its mail without spending the recipients' retries.
    if (snap?.state === 'suspended' && snap.suspendedUntil) return this.#postpone(row, snap.suspendedUntil, route.site);
    // Signed before it joins the ready queue: the site's sessions wait for the wire only,
    // never for a signing thread.
    let body: Buffer;
    let mailFrom = message.mailFrom;
    try {
      body = await this.#signedBody(message);
      if (this.#deps.returnPath) {
        const signing = await this.#deps.keys.get(message.fromDomain);
        mailFrom = this.#deps.returnPath({ messageId: message.id, recipientId: row.id, mailFrom: message.mailFrom, returnPathDomain: signing.returnPathDomain });
      }
    } catch (err) {
      this.#doneWith(message.id);
      // A key that cannot sign or a return path that cannot be built: retrying will not help.
      await this.#finish(this.#completion(row, 'failed', this.#opts.now(), { attempted: false, site: route.site, enhancedStatus: '5.6.0', text: `not sent: ${(err as Error).message}`, reason: 'systemerror' }));
      return;
    }
    this.#doneWith(message.id);
    if (this.#stopping) return this.#postpone(row, this.#opts.now(), route.site);
    let sq = this.#sites.get(route.site);
    if (!sq) {
      sq = { site: route.site, active: 0, limit: 1, transactional: [], bulk: [] };
      this.#sites.set(route.site, sq);
    }
    const limits = this.#deps.egress.pool(route.site, this.#opts.sourceIp, route.hosts).throttle.limits();
    // Twice the connections: each session has its next message waiting, no more, so a
    // transactional arrival waits behind at most one message per session.
    sq.limit = Math.max(1, limits.maxConnections * 2);
    sq[row.lane].push({ row, route, body, mailFrom, sourceIp });
    this.#pump(sq);
  }

  #pump(sq: SiteQueue): void {
    while (sq.active < sq.limit) {
      const job = sq.transactional.shift() ?? sq.bulk.shift();
      if (!job) break;
      sq.active++;
      let freed = false;
      // The slot is the session's: it frees when the reply is in, not when the result is
      // committed, so sessions never idle through a result batch's delay and commit.
      const free = () => {
        if (freed) return;
        freed = true;
        sq.active--;
        this.#pump(sq);
      };
      void this.#send(job, free).finally(free);
    }
  }

  #signedBody(message: QueuedMessage): Promise<Buffer> {
    const hit = this.#signed.get(message.id);
    if (hit) {
      hit.users++;
      return hit.body;
    }
    const body = (async () => {
      const signing = await this.#deps.keys.get(message.fromDomain);
      let wire = message.body;
      if (!signing.key || !this.#deps.signer) {
        if (this.#deps.signer) this.#opts.logger?.warn({ domain: message.fromDomain }, 'no active DKIM key: sending unsigned');
      } else {
        wire = await this.#deps.signer.sign(message.body, signing.key);
      }
      try {
        this.#deps.signed?.(message, wire);
      } catch (err) {
        this.#opts.logger?.error({ err, messageId: message.id }, 'archive capture failed');
      }
      return wire;
    })();
    this.#signed.set(message.id, { body, users: 1 });
    return body;
  }

  #doneWith(messageId: string): void {
    const hit = this.#signed.get(messageId);
    if (hit && --hit.users <= 0) this.#signed.delete(messageId);
  }

  async #send(job: Job, free: () => void): Promise<void> {
    const { row, route } = job;
    let result: AttemptResult;
    try {
      result = await this.#deps.egress.send({ site: route.site, hosts: route.hosts, sourceIp: job.sourceIp ?? this.#opts.sourceIp, mailFrom: job.mailFrom, recipients: [row.recipient], message: job.body });
      free();
    } catch (err) {
      free();
      // Refused because egress closed for a stop: nothing was sent.
      if (this.#stopping) return this.#postpone(row, this.#opts.now(), route.site);
      // A job egress refuses as malformed: retrying will not help.
      await this.#finish(this.#completion(row, 'failed', this.#opts.now(), { attempted: false, site: route.site, enhancedStatus: '5.6.0', text: `not sent: ${(err as Error).message}`, reason: 'systemerror' }));
      return;
    }
    const now = this.#opts.now();
    if (result.withdrawn) {
      // Never put on a session: back to the queue unattempted, for this or another node.
      this.stats.withdrawn++;
      await this.#postpone(row, now, route.site);
      return;
    }
    const r = result.perRecipient.find((p) => p.recipient === row.recipient) ?? result.perRecipient[0];
    if (this.#aborting && r && r.outcome === 'deferred') {
      // Cut off by the stop's bound: handed back unattempted rather than waiting out a retry.
      await this.#postpone(row, now, route.site);
      return;
    }
    if (!r) {
      await this.#deferOrExpire(row, now, { site: route.site, mxHost: result.mxHost || null, replyCode: null, enhancedStatus: null, text: 'no result from egress', reason: 'systemerror' });
      return;
    }
    const detail = { site: route.site, mxHost: result.mxHost || null, replyCode: r.replyCode, enhancedStatus: r.enhancedStatus, text: r.text };
    if (r.outcome === 'delivered') {
      await this.#finish(this.#completion(row, 'delivered', now, { ...detail, attempted: true }));
    } else if (r.outcome === 'failed') {
      await this.#finish(this.#completion(row, 'failed', now, { ...detail, attempted: true, reason: await this.#reason(r, row.recipient) }));
    } else if (!result.mxHost && r.replyCode === null && r.enhancedStatus === '4.4.5') {
      // Refused locally because the site went into back-off meanwhile: not an attempt.
      const snap = this.#deps.egress.status(route.site, this.#opts.sourceIp);
      await this.#postpone(row, snap?.suspendedUntil ?? now + 60_000, route.site);
    } else {
      await this.#deferOrExpire(row, now, { ...detail, reason: await this.#reason(r, row.recipient) });
    }
  }

  async #reason(r: { replyCode: number | null; enhancedStatus: string | null; text: string; command?: string }, recipient: string): Promise<string | null> {
    let reason: string | null = null;
    if (this.#deps.classify) {
      try {
        reason = this.#deps.classify({ replyCode: r.replyCode, status: r.enhancedStatus, text: r.text, command: r.command }).reason;
      } catch {
        reason = null;
      }
    }
    if (!this.#deps.reclassify) return reason;
    return this.#deps.reclassify({ recipient, replyCode: r.replyCode, status: r.enhancedStatus, text: r.text, reason }).catch(() => reason);
  }

  async #deferOrExpire(row: ClaimedRecipient, now: number, d: { site: string | null; mxHost: string | null; replyCode: number | null; enhancedStatus: string | null; text: string; reason: string | null }): Promise<void> {
    const next = nextAttempt(this.#opts.retry, row.attempts + 1, row.firstQueuedAt, now);
    if (next.kind === 'retry') {
      await this.#finish({ ...this.#completion(row, 'deferred', now, { ...d, attempted: true }), nextAttemptAt: next.at });
    } else {
      await this.#finish(this.#completion(row, 'expired', now, { ...d, attempted: true, text: `expired after ${row.attempts + 1} attempts; last reply: ${[d.replyCode, d.enhancedStatus, d.text].filter((x) => x !== null && x !== '').join(' ')}`, reason: 'expired' }));
    }
  }

  #completion(row: ClaimedRecipient, outcome: Completion['outcome'], at: number, d: Partial<Omit<Completion, 'row' | 'outcome' | 'at'>>): Completion {
    return {
      row, outcome, at, attempted: d.attempted ?? true, site: d.site ?? row.site, mxHost: d.mxHost ?? null, sourceIp: this.#opts.sourceIp ?? null,
      replyCode: d.replyCode ?? null, enhancedStatus: d.enhancedStatus ?? null, text: d.text ?? null, reason: d.reason ?? null, nextAttemptAt: d.nextAttemptAt,
    };
  }

  async #finish(c: Completion): Promise<void> {
    this.stats[c.outcome === 'cancelled' ? 'failed' : c.outcome]++;
    await this.#commit({ kind: 'complete', completion: c }, c.row.lane);
  }

  async #postpone(row: ClaimedRecipient, at: number, site: string | null): Promise<void> {
    this.stats.postponed++;
    await this.#commit({ kind: 'postpone', row, at, site }, row.lane);
  }

  async #commit(w: Write, lane: Lane): Promise<void> {
    const row = w.kind === 'complete' ? w.completion.row : w.row;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#writer.add(w);
        this.#leased.delete(row.id);
        break;
      } catch (err) {
        // The store is away. The result is kept (memory is bounded by the in-flight limits,
        // and nothing more is claimed meanwhile) and written once the store is back, so what
        // was sent is not sent again. The heartbeat keeps the row's lease meanwhile; only if
        // this node stops before the store returns does the lease run out, and the row is sent
        // again (a duplicate, never a loss).
        this.#faults.report(this.#opts.logger, err, 'writing a delivery result failed; kept and retried');
        if (isStorageFull(err)) this.queue.store.reclaimSpace();
        if (this.#aborting) break;
        await sleep(Math.min(2000, 100 * attempt));
      }
    }
    this.#inflight[lane]--;
    const messageId = this.#heldRows.get(row.id);
    if (messageId !== undefined) {
      this.#heldRows.delete(row.id);
      const held = this.#heldMessages.get(messageId);
      if (held && --held.rows <= 0) {
        this.#heldMessages.delete(messageId);
        this.#inflightBytes -= held.bytes;
      }
    }
    this.wake();
  }

  async #write(items: Write[]): Promise<void> {
    const completions = items.filter((w): w is { kind: 'complete'; completion: Completion } => w.kind === 'complete').map((w) => w.completion);
    const postponed = items.filter((w): w is Postpone => w.kind === 'postpone');
    await this.queue.complete(completions);
    const byTime = new Map<number, Postpone[]>();
    for (const p of postponed) byTime.set(p.at, [...(byTime.get(p.at) ?? []), p]);
    for (const [at, list] of byTime) await this.queue.release(list.map((p) => ({ id: p.row.id, site: p.site })), at);
  }
}
