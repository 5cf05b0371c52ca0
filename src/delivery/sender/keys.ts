import { activeDkimKey, findSendingDomain } from '../../domains/index.ts';
import type { Store } from '../../store/store.ts';

export interface DomainSigning {
  /** The active DKIM key, or null when the domain has none (mail goes unsigned, with a warning). */
  key: { domain: string; selector: string; privateKeyPem: string } | null;
  /** Where bounces for this domain go (VERP return paths). */
  returnPathDomain: string | null;
}

const TTL_MS = 60_000;

/**
 * Signing facts per sending domain, read from the store at most once a minute: a rotated key
 * takes over within a minute without a restart, and the hot path never queries per message.
 */
export class SigningKeys {
  readonly #store: Store;
  readonly #cache = new Map<string, { at: number; value: Promise<DomainSigning> }>();

  constructor(store: Store) {
    this.#store = store;
  }

  get(domain: string, now = Date.now()): Promise<DomainSigning> {
    const hit = this.#cache.get(domain);
    if (hit && now - hit.at < TTL_MS) return hit.value;
    const value = this.#load(domain);
    this.#cache.set(domain, { at: now, value });
    // A failed read is not cached: the next message asks again.
    value.catch(() => this.#cache.delete(domain));
    return value;
  }

  async #load(domain: string): Promise<DomainSigning> {
    const info = await findSendingDomain(this.#store.db, domain);
    if (!info) return { key: null, returnPathDomain: null };
    return { key: await activeDkimKey(this.#store, info.id), returnPathDomain: info.returnPathDomain };
  }
}
