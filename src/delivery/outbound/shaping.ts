import { BUILTIN_PRESETS } from './presets.ts';
import type { ShapingPreset } from './presets.ts';
import type { SiteLimitsOverride } from '../config.ts';

export { SiteThrottle } from './throttle.ts';
export type { ThrottleOptions, ThrottleState, ThrottleSnapshot } from './throttle.ts';
export { classifyThrottle } from './replies.ts';
export type { ThrottleSignal } from './replies.ts';
export { BUILTIN_PRESETS } from './presets.ts';
export type { ShapingPreset } from './presets.ts';

/** Per (source IP, site) limits. messagesPerMinute 0 = no rate limit. */
export interface SiteLimits {
  maxConnections: number;
  messagesPerConnection: number;
  messagesPerMinute: number;
}

export const DEFAULT_SITE_LIMITS: Readonly<SiteLimits> = Object.freeze({ maxConnections: 10, messagesPerConnection: 100, messagesPerMinute: 0 });

export interface ShapingConfig {
  defaults?: Partial<SiteLimits>;
  /** Built-in preset name → fields that replace the preset's. */
  presets?: Record<string, SiteLimitsOverride>;
  /** Operator presets, matched before the built-in ones. */
  custom?: { name: string; match: string[]; limits: SiteLimitsOverride }[];
}

export interface SiteShape {
  /** The preset that matched, or null for the defaults. */
  preset: string | null;
  limits: SiteLimits;
}

/** `*.google.com` → /^.+\.google\.com$/; `mxbiz*.qq.com` → /^mxbiz.*\.qq\.com$/. */
export function hostPattern(pattern: string): RegExp {
  const p = pattern.trim().toLowerCase().replace(/\.$/, '');
  if (!p || /[^a-z0-9.*\-_[\]:]/.test(p)) throw new Error(`shaping: "${pattern}" is not a host pattern (letters, digits, dots, '-' and '*')`);
  const glob = (text: string) => text.split('*').map((part) => part.replace(/[.[\]]/g, (c) => `\\${c}`)).join('.*');
  // A leading "*." needs at least one whole label, so "*.x.com" never matches "evilx.com".
  return new RegExp(p.startsWith('*.') ? `^.+\\.${glob(p.slice(2))}$` : `^${glob(p)}$`);
}

function checkLimits(where: string, l: SiteLimits): SiteLimits {
  for (const [k, min] of [['maxConnections', 1], ['messagesPerConnection', 1], ['messagesPerMinute', 0]] as const) {
    const v = l[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (k !== 'messagesPerMinute' && !Number.isInteger(v))) {
      throw new Error(`shaping: ${where}.${k} must be ${k === 'messagesPerMinute' ? 'a number' : 'a whole number'} >= ${min}, got ${String(v)}`);
    }
  }
  return Object.freeze({ ...l });
}

/**
 * Finds the limits for a site from its MX host names: the first preset with a pattern that
 * matches any of the hosts, else the defaults. Results are memoised per site key, since the
 * sender asks for every batch.
 */
export class ShapingTable {
  readonly #defaults: SiteLimits;
  readonly #presets: { name: string; patterns: RegExp[]; limits: SiteLimits }[];
  readonly #memo = new Map<string, SiteShape>();

  constructor(config: ShapingConfig = {}) {
    this.#defaults = checkLimits('defaults', { ...DEFAULT_SITE_LIMITS, ...config.defaults });
    const builtinNames = new Set(BUILTIN_PRESETS.map((p) => p.name));
    for (const name of Object.keys(config.presets ?? {})) {
      if (!builtinNames.has(name)) throw new Error(`shaping: unknown preset "${name}" (built-in: ${[...builtinNames].join(', ')})`);
    }
    const all: ShapingPreset[] = [
      ...(config.custom ?? []).map((c) => ({ name: c.name, match: c.match, limits: { ...this.#defaults, ...c.limits } })),
      ...BUILTIN_PRESETS.map((p) => ({ ...p, limits: { ...p.limits, ...config.presets?.[p.name] } })),
    ];
    this.#presets = all.map((p) => ({ name: p.name, patterns: p.match.map(hostPattern), limits: checkLimits(`presets.${p.name}`, p.limits) }));
  }

  /** `hosts`: the site's MX host names (or the static route's host). */
  shapeFor(hosts: readonly string[]): SiteShape {
    const key = hosts.join(',');
    let shape = this.#memo.get(key);
    if (!shape) {
      shape = this.#lookup(hosts.map((h) => h.toLowerCase().replace(/\.$/, '')));
      if (this.#memo.size > 10_000) this.#memo.clear();
      this.#memo.set(key, shape);
    }
    return shape;
  }

  #lookup(hosts: string[]): SiteShape {
    for (const preset of this.#presets) {
      if (hosts.some((h) => preset.patterns.some((re) => re.test(h)))) return { preset: preset.name, limits: preset.limits };
    }
    return { preset: null, limits: this.#defaults };
  }
}
