import { Batcher } from '../../core/batcher.ts';
import type { Store } from '../../store/store.ts';
import { validateItem, writeMessages } from './enqueue.ts';
import type { EnqueueItem, ItemOutcome, SuppressionCheck } from './enqueue.ts';

export interface GroupCommitOptions {
  /** Most messages in one transaction. */
  maxBatch?: number;
  suppression?: SuppressionCheck | null;
  onCommitted?: () => void;
}

/**
 * Group commit for submissions: messages arriving while a transaction is being written go
 * together in the next one. No timer: a lone message commits at once; under load batches grow
 * by themselves. Each caller's promise settles only after the transaction holding ITS message
 * committed; if that transaction fails, no message of the batch is stored and each caller
 * answers with a temporary failure so its client retries.
 */
export class GroupCommitQueue {
  readonly #batcher: Batcher<EnqueueItem, ItemOutcome>;

  constructor(store: Store, options: GroupCommitOptions = {}) {
    const suppression = options.suppression ?? null;
    this.#batcher = new Batcher(async (items) => {
      const outcomes = await store.transaction((trx) => writeMessages(trx, items, { suppression, sqlite: store.sqlite }));
      options.onCommitted?.();
      return outcomes;
    }, options.maxBatch ?? 500);
  }

  /** Settles with the item's outcome once committed (or refused for quota); rejects on a store failure. */
  submit(item: EnqueueItem): Promise<ItemOutcome> {
    try {
      // A bad item is refused alone, before it can fail a whole batch.
      validateItem(item);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.#batcher.add(item);
  }

  get batches(): number {
    return this.#batcher.batches;
  }

  /** Resolves once everything submitted so far is committed or failed. */
  flushed(): Promise<void> {
    return this.#batcher.flushed();
  }
}
