/**
 * Collects items and writes them in one call while the previous write runs (group commit for
 * delivery results): each `add` settles once the write holding its item has finished.
 */
export class Batcher<T> {
  readonly #write: (items: T[]) => Promise<void>;
  readonly #max: number;
  #pending: { item: T; done: (err?: unknown) => void }[] = [];
  #running = false;
  #idle: (() => void)[] = [];

  readonly #delayMs: number;

  /** `delayMs`: how long the first item waits for company (0: the next turn of the event loop). */
  constructor(write: (items: T[]) => Promise<void>, max = 1000, delayMs = 0) {
    this.#write = write;
    this.#max = max;
    this.#delayMs = delayMs;
  }

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.#running) {
        this.#running = true;
        if (this.#delayMs > 0) setTimeout(() => void this.#drain(), this.#delayMs);
        else setImmediate(() => void this.#drain());
      }
    });
  }

  flushed(): Promise<void> {
    if (!this.#running && !this.#pending.length) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #drain(): Promise<void> {
    while (this.#pending.length) {
      const batch = this.#pending.splice(0, this.#max);
      try {
        await this.#write(batch.map((b) => b.item));
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err ?? new Error('write failed'));
      }
    }
    this.#running = false;
    for (const fn of this.#idle.splice(0)) fn();
  }
}
