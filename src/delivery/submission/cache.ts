/**
 * A look-up remembered for a short time, handed back synchronously once it has loaded: the
 * SMTP handlers then answer from memory without waiting a turn of the event loop, and the
 * store is asked at most once per key and period. A failed load is not remembered.
 */
export class TtlCache<K, V> {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #entries = new Map<K, { at: number; value?: V; pending?: Promise<V> }>();

  constructor(ttlMs: number, max = 10_000) {
    this.#ttlMs = ttlMs;
    this.#max = max;
  }

  /** `keep` false: the value is used once and not remembered (e.g. "no account allows this address"). */
  get(key: K, load: () => Promise<V>, keep: (value: V) => boolean = () => true, now = Date.now()): V | Promise<V> {
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < this.#ttlMs) return hit.pending ?? hit.value!;
    if (this.#entries.size >= this.#max) this.#entries.clear();
    const entry: { at: number; value?: V; pending?: Promise<V> } = { at: now };
    entry.pending = load().then((value) => {
      entry.value = value;
      entry.pending = undefined;
      if (!keep(value) && this.#entries.get(key) === entry) this.#entries.delete(key);
      return value;
    }, (err: unknown) => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
      throw err;
    });
    this.#entries.set(key, entry);
    return entry.pending;
  }
}
