/**
 * Group commit: items added while a write runs wait and go together in the next write, so a
 * store syncs once per batch instead of once per item. Each `add` settles once the write
 * holding its item has finished, with that item's result when the write returns one per item.
 */
export class Batcher<T, R = void> {
  readonly #write: (items: T[]) => Promise<R[] | void>;
  readonly #max: number;
  readonly #delayMs: number;
  #pending: { item: T; done: (err: unknown, result?: R) => void }[] = [];
  #running = false;
  #idle: (() => void)[] = [];
  #batches = 0;

  /**
   * `delayMs`: how long the first item waits for company. 0 waits one macrotask only, so a
   * lone item is written at once and items already read by other connections join it.
   */
  constructor(write: (items: T[]) => Promise<R[] | void>, max = 1000, delayMs = 0) {
    this.#write = write;
    this.#max = max;
    this.#delayMs = delayMs;
  }

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, done: (err, result) => (err === undefined ? resolve(result as R) : reject(err)) });
      if (!this.#running) {
        this.#running = true;
        if (this.#delayMs > 0) setTimeout(() => void this.#drain(), this.#delayMs);
        else setImmediate(() => void this.#drain());
      }
    });
  }

  /** Writes started so far. */
  get batches(): number {
    return this.#batches;
  }

  /** Resolves once everything added so far is written or failed. */
  flushed(): Promise<void> {
    if (!this.#running && !this.#pending.length) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #drain(): Promise<void> {
    while (this.#pending.length) {
      const batch = this.#pending.splice(0, this.#max);
      this.#batches++;
      try {
        const results = await this.#write(batch.map((b) => b.item));
        batch.forEach((b, i) => b.done(undefined, results ? results[i] : undefined));
      } catch (err) {
        for (const b of batch) b.done(err ?? new Error('write failed'));
      }
    }
    this.#running = false;
    for (const fn of this.#idle.splice(0)) fn();
  }
}
