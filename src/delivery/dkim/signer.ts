import { Worker } from 'node:worker_threads';
import { decodeKey, dkimSignatureHeader, DkimError } from './core.ts';
import type { DecodedKey, DkimKey } from './core.ts';
import type { WorkerReply, WorkerRequest } from './worker.ts';

export interface DkimSignerOptions {
  /** Signing threads; 0 (the default) signs on the calling thread. */
  workers?: number;
  /** Colon-separated header names to sign; mailauth's default list otherwise. */
  headerList?: string;
  now?: () => number;
}

interface CachedKey {
  pem: string;
  keyId: number;
  /** Decoded on this thread too: validates the key up front and serves the inline path. */
  decoded: DecodedKey;
}

interface Pending {
  resolve(header: string): void;
  reject(err: Error): void;
}

interface Queued {
  id: number;
  keyId: number;
  message: Buffer;
}

interface Slot {
  worker: Worker;
  dead: boolean;
  /** Requests of the current event-loop turn, posted together by #flush. */
  queued: Queued[];
  queuedBytes: number;
  pending: Map<number, Pending>;
  keys: Set<number>;
}

/**
 * DKIM signing with every key decoded once per (domain, selector) and, when `workers` > 0,
 * the RSA work spread over a pool of threads so signing uses every core while the event
 * loop keeps the SMTP sessions moving. A changed PEM for the same selector (key rotation)
 * is noticed and decoded again.
 */
export class DkimSigner {
  readonly #keys = new Map<string, CachedKey>();
  readonly #slots: Slot[] = [];
  readonly #headerList: string | undefined;
  readonly #now: () => number;
  readonly #workerCount: number;
  #nextKeyId = 1;
  #nextId = 1;
  #closed = false;

  constructor(opts: DkimSignerOptions = {}) {
    const n = opts.workers ?? 0;
    if (!Number.isInteger(n) || n < 0 || n > 64) throw new DkimError(`DKIM: workers must be a whole number 0-64, got ${String(n)}`);
    this.#workerCount = n;
    this.#headerList = opts.headerList;
    this.#now = opts.now ?? Date.now;
    for (let i = 0; i < n; i++) this.#slots.push(this.#spawn());
  }

  /** Returns the message with a DKIM-Signature header prepended. */
  async sign(message: Buffer, key: DkimKey): Promise<Buffer> {
    const header = await this.signatureHeader(message, key);
    return Buffer.concat([Buffer.from(`${header}\r\n`, 'latin1'), message]);
  }

  /** The folded `DKIM-Signature:` line alone (no CRLF), for callers that stream the message. */
  signatureHeader(message: Buffer, key: DkimKey): Promise<string> {
    if (this.#closed) return Promise.reject(new DkimError('DKIM: signer is closed'));
    if (!Buffer.isBuffer(message)) return Promise.reject(new DkimError('DKIM: message must be a Buffer'));
    let cached: CachedKey;
    try {
      cached = this.#key(key);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const signTime = this.#now();
    if (this.#workerCount === 0) {
      try {
        return Promise.resolve(dkimSignatureHeader(message, cached.decoded, { signTime, headerList: this.#headerList }));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const slot = this.#pick();
    if (!slot.keys.has(cached.keyId)) {
      slot.worker.postMessage({ type: 'key', keyId: cached.keyId, domain: key.domain, selector: key.selector, privateKeyPem: cached.pem } satisfies WorkerRequest);
      slot.keys.add(cached.keyId);
    }
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      if (slot.queued.length === 0) setImmediate(() => this.#flush(slot, signTime));
      slot.queued.push({ id, keyId: cached.keyId, message });
      slot.queuedBytes += message.length;
      // Bound the batch so one huge turn does not build one huge buffer.
      if (slot.queuedBytes > 4 * 1024 * 1024) this.#flush(slot, signTime);
    });
  }

  /** Posts the slot's queued requests as one message with one transferred buffer. */
  #flush(slot: Slot, signTime: number): void {
    const items = slot.queued;
    if (items.length === 0 || slot.dead) return;
    slot.queued = [];
    slot.queuedBytes = 0;
    const data = Buffer.allocUnsafeSlow(items.reduce((n, q) => n + q.message.length, 0));
    const ends: number[] = [];
    let at = 0;
    for (const q of items) {
      at += q.message.copy(data, at);
      ends.push(at);
    }
    const req: WorkerRequest = { type: 'batch', ids: items.map((q) => q.id), keyIds: items.map((q) => q.keyId), ends, data: data.buffer as ArrayBuffer, signTime, headerList: this.#headerList };
    slot.worker.postMessage(req, [data.buffer as ArrayBuffer]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const slots = this.#slots.splice(0);
    await Promise.all(slots.map(async (s) => {
      await this.#drain(s);
      await s.worker.terminate();
    }));
  }

  #key(key: DkimKey): CachedKey {
    if (!key || typeof key.privateKeyPem !== 'string') throw new DkimError('DKIM: key needs domain, selector and privateKeyPem');
    const id = `${String(key.domain).toLowerCase()}\n${key.selector}`;
    const hit = this.#keys.get(id);
    if (hit && hit.pem === key.privateKeyPem) return hit;
    const entry: CachedKey = { pem: key.privateKeyPem, keyId: this.#nextKeyId++, decoded: decodeKey(key) };
    this.#keys.set(id, entry);
    return entry;
  }

  #pick(): Slot {
    let best = this.#slots[0]!;
    for (const s of this.#slots) if (s.pending.size < best.pending.size) best = s;
    return best;
  }

  #spawn(): Slot {
    const worker = new Worker(new URL('./worker.ts', import.meta.url));
    const slot: Slot = { worker, dead: false, queued: [], queuedBytes: 0, pending: new Map(), keys: new Set() };
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      for (let i = 0; i < reply.ids.length; i++) {
        const id = reply.ids[i]!;
        const p = slot.pending.get(id);
        if (!p) continue;
        slot.pending.delete(id);
        const header = reply.headers[i];
        if (header) p.resolve(header);
        else p.reject(new DkimError(reply.errors[i] ?? 'DKIM: signing failed'));
      }
      if (slot.pending.size === 0) worker.unref();
    });
    const fail = (err: Error) => {
      if (slot.dead) return;
      slot.dead = true;
      for (const p of slot.pending.values()) p.reject(new DkimError(`DKIM: signing thread failed: ${err.message}`));
      slot.pending.clear();
      const i = this.#slots.indexOf(slot);
      // Replace a crashed thread so the pool keeps its size.
      if (i >= 0 && !this.#closed) this.#slots[i] = this.#spawn();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.#closed) fail(new Error(`exited with code ${code}`));
    });
    return slot;
  }

  #drain(slot: Slot): Promise<void> {
    if (slot.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (slot.pending.size === 0 ? resolve() : setTimeout(check, 5));
      check();
    });
  }
}
