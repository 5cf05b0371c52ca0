import type { Store } from '../../store/store.ts';
import { validateItem, writeMessages } from './enqueue.ts';
import type { EnqueueItem, ItemOutcome, SuppressionCheck } from './enqueue.ts';

interface Pending {
  item: EnqueueItem;
  resolve(outcome: ItemOutcome): void;
  reject(err: unknown): void;
}

export interface GroupCommitOptions {
  /** Most messages in one transaction. */
  maxBatch?: number;
  suppression?: SuppressionCheck | null;
  onCommitted?: () => void;
}

/**
 * Group commit for submissions: messages arriving while a transaction is being written wait
 * and go together in the next one, so the store syncs once per batch instead of once per
 * message. No timer: a lone message commits at once; under load batches grow by themselves.
 * Each caller's promise settles only after the transaction holding ITS message committed.
 */
export class GroupCommitQueue {
  readonly #store: Store;
  readonly #maxBatch: number;
  readonly #suppression: SuppressionCheck | null;
  readonly #onCommitted: (() => void) | undefined;
  #pending: Pending[] = [];
  #writing = false;
  #idle: (() => void)[] = [];
  #batches = 0;

  constructor(store: Store, options: GroupCommitOptions = {}) {
    this.#store = store;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#suppression = options.suppression ?? null;
    this.#onCommitted = options.onCommitted;
  }

  /** Settles with the item's outcome once committed (or refused for quota); rejects on a store failure. */
  submit(item: EnqueueItem): Promise<ItemOutcome> {
    return new Promise((resolve, reject) => {
      // A bad item is refused alone, before it can fail a whole batch.
      validateItem(item);
      this.#pending.push({ item, resolve, reject });
      if (!this.#writing) {
        this.#writing = true;
        // One macrotask lets the other sessions' DATA, already read, join this batch.
        setImmediate(() => void this.#drain());
      }
    });
  }

  get batches(): number {
    return this.#batches;
  }

  /** Resolves once everything submitted so far is committed or failed. */
  flushed(): Promise<void> {
    if (!this.#writing && !this.#pending.length) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #drain(): Promise<void> {
    while (this.#pending.length) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      this.#batches++;
      try {
        const outcomes = await this.#store.transaction((trx) => writeMessages(trx, batch.map((p) => p.item), { suppression: this.#suppression, sqlite: this.#store.sqlite }));
        batch.forEach((p, i) => p.resolve(outcomes[i]!));
        this.#onCommitted?.();
      } catch (err) {
        // The whole transaction rolled back: no message of the batch is stored, each caller
        // answers with a temporary failure and its client retries.
        for (const p of batch) p.reject(err);
      }
    }
    this.#writing = false;
    for (const fn of this.#idle.splice(0)) fn();
  }
}
