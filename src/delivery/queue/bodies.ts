import { createHash } from 'node:crypto';
import type { Executor, Tx } from '../../store/store.ts';

/**
 * Message bodies stored by content. A request to 200 recipients of a 1 MB statement renders 200
 * messages that differ in a few headers: stored whole, that is 200 MB (227 MB was measured). So
 * a message can be kept as a manifest — its own bytes inline, and references to parts stored
 * once per tenant by their SHA-256 (`delivery_parts`). Which parts: the MIME sections between
 * boundary lines (an attachment, a text or HTML part), and the body of a single-part message,
 * when they are large enough to be worth a row. Everything that reads a stored body goes
 * through `loadBodies`, so the sender sees the same bytes whichever way they were kept.
 */

/** Sections smaller than this stay inline in the manifest. */
export const SHARED_PART_MIN_BYTES = 4096;

const INLINE = 0;
const REF = 1;
const HASH_BYTES = 32;

/** A rendered message split into its own bytes and its shareable parts. */
export class SplitBody {
  /**
   * What the body column holds: the raw message when nothing was worth sharing (format 0), or
   * a manifest of entries [0, u32 length, bytes] inline and [1, 32-byte SHA-256] part (format 1).
   */
  readonly stored: Buffer;
  readonly format: 0 | 1;
  /** The parts it refers to, by hex SHA-256; the same Buffer for every message that shares one. */
  readonly parts: ReadonlyMap<string, Buffer>;
  /** The whole message's size in bytes, as it will be sent. */
  readonly size: number;

  constructor(stored: Buffer, format: 0 | 1, parts: ReadonlyMap<string, Buffer>, size: number) {
    this.stored = stored;
    this.format = format;
    this.parts = parts;
    this.size = size;
  }
}

/** Where a raw message may be cut: after its header block, and around every `--` boundary line. */
function cutPoints(raw: Buffer): number[] {
  const cuts: number[] = [];
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) return cuts;
  let at = headerEnd + 4;
  cuts.push(at);
  for (;;) {
    const line = raw.indexOf('\r\n--', at - 2);
    if (line < 0) break;
    const start = line + 2;
    if (start > cuts[cuts.length - 1]!) cuts.push(start);
    const eol = raw.indexOf('\r\n', start);
    if (eol < 0) break;
    at = eol + 2;
    cuts.push(at);
  }
  return cuts;
}

/**
 * Splits messages of one batch, holding each distinct part once in memory: a shared 10 MB
 * attachment sent to 1,000 recipients is 10 MB here, not 10 GB.
 */
export class BodySplitter {
  readonly #parts = new Map<string, Buffer>();
  #held = 0;

  /** Bytes the split messages hold in memory (and will take in the store): shared parts once. */
  get heldBytes(): number {
    return this.#held;
  }

  split(raw: Buffer): SplitBody {
    const cuts = [0, ...cutPoints(raw), raw.length];
    const entries: Buffer[] = [];
    const mine = new Map<string, Buffer>();
    let inlineFrom = 0;
    const flushInline = (to: number) => {
      if (to <= inlineFrom) return;
      const len = Buffer.alloc(5);
      len[0] = INLINE;
      len.writeUInt32BE(to - inlineFrom, 1);
      entries.push(len, raw.subarray(inlineFrom, to));
    };
    for (let i = 0; i + 1 < cuts.length; i++) {
      const from = cuts[i]!;
      const to = cuts[i + 1]!;
      if (to - from < SHARED_PART_MIN_BYTES) continue;
      flushInline(from);
      const digest = createHash('sha256').update(raw.subarray(from, to)).digest();
      const hex = digest.toString('hex');
      let part = this.#parts.get(hex);
      if (!part) {
        // A copy of its own, so the rendered message it came from can be freed.
        part = Buffer.from(raw.subarray(from, to));
        this.#parts.set(hex, part);
        this.#held += part.length;
      }
      mine.set(hex, part);
      entries.push(Buffer.from([REF]), digest);
      inlineFrom = to;
    }
    if (mine.size === 0) {
      this.#held += raw.length;
      return new SplitBody(raw, 0, mine, raw.length);
    }
    flushInline(raw.length);
    const manifest = Buffer.concat(entries);
    this.#held += manifest.length;
    return new SplitBody(manifest, 1, mine, raw.length);
  }
}

/** Rebuilds the message from a manifest and the parts it names. */
function assemble(manifest: Buffer, parts: Map<string, Buffer>, messageId: string): Buffer {
  const chunks: Buffer[] = [];
  let at = 0;
  while (at < manifest.length) {
    const kind = manifest[at]!;
    if (kind === INLINE) {
      const len = manifest.readUInt32BE(at + 1);
      chunks.push(manifest.subarray(at + 5, at + 5 + len));
      at += 5 + len;
    } else if (kind === REF) {
      const hex = manifest.subarray(at + 1, at + 1 + HASH_BYTES).toString('hex');
      const part = parts.get(hex);
      if (!part) throw new Error(`message ${messageId}: stored part ${hex} is missing`);
      chunks.push(part);
      at += 1 + HASH_BYTES;
    } else {
      throw new Error(`message ${messageId}: unreadable body manifest`);
    }
  }
  return Buffer.concat(chunks);
}

function refsOf(manifest: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < manifest.length) {
    if (manifest[at] === INLINE) at += 5 + manifest.readUInt32BE(at + 1);
    else {
      out.push(manifest.subarray(at + 1, at + 1 + HASH_BYTES).toString('hex'));
      at += 1 + HASH_BYTES;
    }
  }
  return out;
}

/**
 * Stores the parts of a batch inside the caller's transaction, each once per tenant; a part
 * an earlier message stored is kept as it is.
 */
export async function storeParts(trx: Tx, items: { tenantId: string; body: SplitBody }[], now: number): Promise<void> {
  const seen = new Set<string>();
  const rows: { tenant_id: string; hash: string; size: number; content: Buffer; created_at: number }[] = [];
  for (const { tenantId, body } of items) {
    for (const [hash, content] of body.parts) {
      const key = `${tenantId}\u0000${hash}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({ tenant_id: tenantId, hash, size: content.length, content, created_at: now });
    }
  }
  // A few large rows at a time: statements stay small and under PostgreSQL's parameter limit.
  for (let i = 0; i < rows.length; i += 20) {
    await trx.insertInto('delivery_parts').values(rows.slice(i, i + 20)).onConflict((oc) => oc.columns(['tenant_id', 'hash']).doNothing()).execute();
  }
}

export interface StoredBodyRow {
  id: string;
  tenant_id: string;
  body: Buffer | Uint8Array;
  /** 0: the raw message; 1: a manifest of inline bytes and parts (SplitBody). */
  body_format: number;
}

/**
 * The one way a stored message body is read: raw bodies as they are, manifests rebuilt from
 * their parts (fetched in one query per tenant). Returns message id → the bytes to send.
 */
export async function loadBodies(db: Executor, rows: StoredBodyRow[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const wanted = new Map<string, Set<string>>();
  for (const r of rows) {
    const body = Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    if (Number(r.body_format) !== 1) {
      out.set(r.id, body);
      continue;
    }
    const set = wanted.get(r.tenant_id) ?? new Set<string>();
    for (const h of refsOf(body)) set.add(h);
    wanted.set(r.tenant_id, set);
  }
  if (!wanted.size) return out;
  const parts = new Map<string, Map<string, Buffer>>();
  for (const [tenantId, hashes] of wanted) {
    const list = [...hashes];
    const got = new Map<string, Buffer>();
    for (let i = 0; i < list.length; i += 500) {
      const found = await db.selectFrom('delivery_parts').select(['hash', 'content']).where('tenant_id', '=', tenantId).where('hash', 'in', list.slice(i, i + 500)).execute();
      for (const p of found) got.set(p.hash, Buffer.isBuffer(p.content) ? p.content : Buffer.from(p.content));
    }
    parts.set(tenantId, got);
  }
  for (const r of rows) {
    if (Number(r.body_format) !== 1) continue;
    const body = Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    out.set(r.id, assemble(body, parts.get(r.tenant_id) ?? new Map(), r.id));
  }
  return out;
}

/** One message's bytes as they will be sent, or null when there is no such message. */
export async function loadBody(db: Executor, messageId: string): Promise<Buffer | null> {
  const row = await db.selectFrom('delivery_messages').select(['id', 'tenant_id', 'body', 'body_format']).where('id', '=', messageId).executeTakeFirst();
  if (!row) return null;
  return (await loadBodies(db, [row])).get(row.id) ?? null;
}
