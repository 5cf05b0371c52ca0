import { Batcher } from '../core/batcher.ts';
import type { Store } from '../store/store.ts';

/**
 * What the sender hands over when it has signed a message: the archive keeps the message as
 * it went on the wire. Signing only puts header fields before the stored bytes, so only that
 * prefix is written here, in batches off the sending path; the archiver joins it to the body.
 */
export class ArchiveCapture {
  readonly #batcher: Batcher<{ messageId: string; prefix: Buffer; whole: number; at: number }>;

  constructor(store: Store, onError: (err: unknown) => void = () => {}) {
    this.#batcher = new Batcher(async (items) => {
      await store.db.insertInto('archive_pending')
        .values(items.map((i) => ({ message_id: i.messageId, prefix: i.prefix, whole: i.whole, signed_at: i.at })))
        .onConflict((oc) => oc.column('message_id').doNothing()).execute();
    }, 500, 50);
    this.onError = onError;
  }

  readonly onError: (err: unknown) => void;

  /** Called once per message a node signs (again after a restart: the first one stays). */
  signed(messageId: string, stored: Buffer, wire: Buffer, at = Date.now()): void {
    const tail = wire.length >= stored.length && wire.subarray(wire.length - stored.length).equals(stored);
    const item = tail ? { messageId, prefix: Buffer.from(wire.subarray(0, wire.length - stored.length)), whole: 0, at } : { messageId, prefix: wire, whole: 1, at };
    this.#batcher.add(item).catch(this.onError);
  }

  flushed(): Promise<void> {
    return this.#batcher.flushed();
  }
}
