import { classifyThrottle } from './replies.ts';
import type { ThrottleSignal } from './replies.ts';
import type { SiteLimits } from './shaping.ts';

/**
 * Back-off state for one (source IP, site): AIMD on the message rate. A throttling reply
 * halves the rate and the connection count (at most once per cooldown, since replies to
 * messages already in flight say nothing new); a "blocked for a while" reply, or a storm of
 * throttles, suspends the site; sustained success doubles the rate back, step by step, to
 * the configured limits. Pure state with an injected clock: no timers.
 */
export type ThrottleState = 'normal' | 'slowed' | 'suspended';

export interface ThrottleOptions {
  now?: () => number;
  /** First suspension; doubles on each consecutive one, up to maxSuspendMs. */
  suspendMs?: number;
  maxSuspendMs?: number;
  /** Replies within this long after a halving do not halve again. */
  cooldownMs?: number;
  /** This many throttles within one cooldown window suspend the site. */
  suspendAfter?: number;
  /** Every this long without a throttle (and with successes), the rate doubles. */
  recoverEveryMs?: number;
  /** Floor of the slowed rate, messages a minute. */
  minPerMinute?: number;
  /** Called when a reply slows or suspends the site (not when a state is adopted): shares it. */
  onChange?: (change: AdoptedBackoff) => void;
}

/** A back-off state as shared between nodes. */
export interface AdoptedBackoff {
  state: ThrottleState;
  perMinute: number;
  connections: number;
  suspendedUntil: number;
  reason: string | null;
}

export interface ThrottleSnapshot {
  state: ThrottleState;
  limits: SiteLimits;
  /** Epoch ms when a suspension ends; null when not suspended. */
  suspendedUntil: number | null;
  lastReason: string | null;
}

const WINDOW_SLOTS = 6;
const SLOT_MS = 10_000;

export class SiteThrottle {
  readonly base: SiteLimits;
  readonly #now: () => number;
  readonly #opts: Required<Omit<ThrottleOptions, 'now' | 'onChange'>>;
  readonly #onChange: ThrottleOptions['onChange'];
  #state: ThrottleState = 'normal';
  /** Slowed rate in messages a minute; null = the base limits apply. */
  #rate: number | null = null;
  /** The rate to get back to before "normal" (the base rate, or what was flowing when throttled). */
  #restoreRate = 0;
  #connections: number;
  #suspendedUntil = 0;
  #suspensions = 0;
  #lastHalving = -Infinity;
  #lastChange = 0;
  #throttlesInWindow = 0;
  #successesSinceChange = 0;
  #lastReason: string | null = null;
  // token bucket for messagesPerMinute
  #tokens = 1;
  #tokensAt = 0;
  // sends over the last minute, in 10-second slots, to slow an unlimited site from what it carried
  readonly #slots = new Array<number>(WINDOW_SLOTS).fill(0);
  #slotAt = 0;

  constructor(base: SiteLimits, options: ThrottleOptions = {}) {
    this.base = base;
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange;
    this.#opts = {
      suspendMs: options.suspendMs ?? 5 * 60_000,
      maxSuspendMs: options.maxSuspendMs ?? 60 * 60_000,
      cooldownMs: options.cooldownMs ?? 5_000,
      suspendAfter: options.suspendAfter ?? 20,
      recoverEveryMs: options.recoverEveryMs ?? 60_000,
      minPerMinute: options.minPerMinute ?? 6,
    };
    this.#connections = base.maxConnections;
    this.#tokensAt = this.#now();
    this.#tokens = this.#burst();
  }

  get state(): ThrottleState {
    this.#tick();
    return this.#state;
  }

  /** The limits to apply now. */
  limits(): SiteLimits {
    this.#tick();
    if (this.#rate === null) return this.base;
    return { maxConnections: this.#connections, messagesPerConnection: this.base.messagesPerConnection, messagesPerMinute: this.#rate };
  }

  snapshot(): ThrottleSnapshot {
    const limits = this.limits();
    return { state: this.#state, limits, suspendedUntil: this.#state === 'suspended' ? this.#suspendedUntil : null, lastReason: this.#lastReason };
  }

  /** Classifies a reply and applies it; returns what it was taken for. */
  onReply(code: number | null, enhancedStatus: string | null, text: string): ThrottleSignal {
    const signal = classifyThrottle(code, enhancedStatus, text);
    if (signal !== 'none') this.onThrottle(signal, `${code ?? ''}${enhancedStatus ? ` ${enhancedStatus}` : ''} ${text}`.trim());
    return signal;
  }

  onThrottle(signal: 'slow' | 'suspend', reason: string): void {
    this.#tick();
    const now = this.#now();
    this.#lastReason = reason.slice(0, 300);
    this.#successesSinceChange = 0;
    this.#lastChange = now;
    if (this.#state === 'suspended') return;
    if (now - this.#lastHalving < this.#opts.cooldownMs) {
      this.#throttlesInWindow++;
      if (signal === 'suspend' || this.#throttlesInWindow >= this.#opts.suspendAfter) this.#suspend(now);
      return;
    }
    if (signal === 'suspend') {
      this.#suspend(now);
      return;
    }
    this.#halve(now);
  }

  /**
   * Applies a back-off that another node's replies started, when it is stricter than ours:
   * a later suspension, or a slower rate. Recovery stays local (every node doubles back on its
   * own successes), and nothing is published again.
   */
  adopt(b: AdoptedBackoff): void {
    this.#tick();
    const now = this.#now();
    const suspended = b.state === 'suspended' && b.suspendedUntil > now;
    if (!suspended && b.state !== 'slowed' && b.state !== 'suspended') return;
    const slower = this.#rate === null || b.perMinute < this.#rate;
    if (suspended ? this.#state === 'suspended' && this.#suspendedUntil >= b.suspendedUntil : !slower) return;
    if (this.#rate === null) this.#restoreRate = this.base.messagesPerMinute > 0 ? this.base.messagesPerMinute : b.perMinute * 2;
    if (slower) this.#rate = Math.max(this.#opts.minPerMinute, b.perMinute);
    this.#connections = Math.max(1, Math.min(this.#connections, b.connections));
    if (suspended) {
      this.#state = 'suspended';
      this.#suspendedUntil = b.suspendedUntil;
    } else if (this.#state !== 'suspended') {
      this.#state = 'slowed';
    }
    this.#lastChange = now;
    this.#lastHalving = now;
    this.#successesSinceChange = 0;
    this.#lastReason = b.reason;
    this.#tokens = Math.min(this.#tokens, this.#burst());
  }

  /** Call once per recipient accepted. */
  onSuccess(count = 1): void {
    this.#successesSinceChange += count;
    this.#tick();
  }

  /**
   * Takes a send slot: 0 means go now (one message counted against the rate); otherwise the
   * ms to wait before asking again. Suspended sites answer with the time left.
   */
  reserve(): number {
    this.#tick();
    const now = this.#now();
    if (this.#state === 'suspended') return Math.max(1, this.#suspendedUntil - now);
    const perMinute = this.#rate ?? this.base.messagesPerMinute;
    if (perMinute > 0) {
      const perMs = perMinute / 60_000;
      this.#tokens = Math.min(this.#burst(), this.#tokens + (now - this.#tokensAt) * perMs);
      this.#tokensAt = now;
      if (this.#tokens < 1) return Math.max(1, Math.ceil((1 - this.#tokens) / perMs));
      this.#tokens -= 1;
    }
    this.#count(now);
    return 0;
  }

  /** Messages a minute carried over the last minute (an estimate from 10-second slots). */
  observedPerMinute(): number {
    this.#count(this.#now(), 0);
    return this.#slots.reduce((a, b) => a + b, 0);
  }

  #burst(): number {
    const perMinute = this.#rate ?? this.base.messagesPerMinute;
    // One second's worth, at least one message: smooth enough for providers that count per minute.
    return Math.max(1, perMinute / 60);
  }

  #count(now: number, n = 1): void {
    const slot = Math.floor(now / SLOT_MS);
    if (slot !== this.#slotAt) {
      const steps = Math.min(WINDOW_SLOTS, slot - this.#slotAt);
      for (let i = 1; i <= steps; i++) this.#slots[(this.#slotAt + i) % WINDOW_SLOTS] = 0;
      this.#slotAt = slot;
    }
    this.#slots[slot % WINDOW_SLOTS]! += n;
  }

  #halve(now: number): void {
    const current = this.#rate ?? (this.base.messagesPerMinute > 0 ? this.base.messagesPerMinute : Math.max(this.observedPerMinute(), this.#opts.minPerMinute * 2));
    if (this.#rate === null) this.#restoreRate = this.base.messagesPerMinute > 0 ? this.base.messagesPerMinute : current;
    if (this.#rate !== null && this.#rate <= this.#opts.minPerMinute) {
      // Already at the floor and still throttled: stop for a while instead.
      this.#suspend(now);
      return;
    }
    this.#rate = Math.max(this.#opts.minPerMinute, current / 2);
    this.#connections = Math.max(1, Math.floor(this.#connections / 2));
    this.#tokens = Math.min(this.#tokens, this.#burst());
    this.#state = 'slowed';
    this.#lastHalving = now;
    this.#throttlesInWindow = 1;
    this.#changed();
  }

  #changed(): void {
    this.#onChange?.({ state: this.#state, perMinute: this.#rate ?? this.base.messagesPerMinute, connections: this.#connections, suspendedUntil: this.#state === 'suspended' ? this.#suspendedUntil : 0, reason: this.#lastReason });
  }

  #suspend(now: number): void {
    const ms = Math.min(this.#opts.maxSuspendMs, this.#opts.suspendMs * 2 ** this.#suspensions);
    this.#suspensions++;
    if (this.#rate === null) {
      const current = this.base.messagesPerMinute > 0 ? this.base.messagesPerMinute : Math.max(this.observedPerMinute(), this.#opts.minPerMinute * 2);
      this.#restoreRate = current;
      this.#rate = Math.max(this.#opts.minPerMinute, current / 2);
      this.#connections = Math.max(1, Math.floor(this.base.maxConnections / 2));
    }
    this.#state = 'suspended';
    this.#suspendedUntil = now + ms;
    this.#lastChange = now;
    this.#lastHalving = now;
    this.#throttlesInWindow = 0;
    this.#changed();
  }

  /** Time-driven transitions: a suspension ends (slowed), sustained success recovers. */
  #tick(): void {
    if (this.#state === 'normal') return;
    const now = this.#now();
    if (this.#state === 'suspended') {
      if (now < this.#suspendedUntil) return;
      this.#state = 'slowed';
      this.#lastChange = this.#suspendedUntil;
      this.#tokens = 1;
      this.#tokensAt = now;
    }
    while (this.#state === 'slowed' && this.#successesSinceChange > 0 && now - this.#lastChange >= this.#opts.recoverEveryMs) {
      this.#lastChange += this.#opts.recoverEveryMs;
      this.#rate = (this.#rate ?? this.#restoreRate) * 2;
      this.#connections = Math.min(this.base.maxConnections, this.#connections * 2);
      if (this.#rate >= this.#restoreRate && this.#connections >= this.base.maxConnections) {
        this.#state = 'normal';
        this.#rate = null;
        this.#suspensions = 0;
        this.#connections = this.base.maxConnections;
        this.#lastReason = null;
      }
    }
  }
}
