/** Turning a stored message into the bytes of DATA or BDAT. */
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');

/**
 * True when a chunk needs no dot-stuffing and no line-ending repair: every LF follows a CR,
 * every CR precedes an LF, and no line starts with ".". Found with native indexOf calls
 * (a few per line) instead of a byte-by-byte loop.
 */
export function isCleanSmtpData(chunk: Buffer, lastByte: number | false): boolean {
  if (chunk.length === 0) return true;
  if (chunk[0] === DOT && (lastByte === false || lastByte === LF)) return false;
  if (chunk[0] === LF && lastByte !== CR) return false;
  if (lastByte === CR && chunk[0] !== LF) return false;
  for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) {
    if (i > 0 && chunk[i - 1] !== CR) return false;
    if (chunk[i + 1] === DOT) return false;
  }
  for (let i = chunk.indexOf(CR); i >= 0; i = chunk.indexOf(CR, i + 1)) {
    // A CR as the chunk's last byte is judged with the next chunk (lastByte above).
    if (i + 1 < chunk.length && chunk[i + 1] !== LF) return false;
  }
  return true;
}

/** Repairs line ends (bare CR or LF become CRLF) and, for DATA, doubles leading dots. */
class LineEncoder {
  last: number | false = false;
  readonly #stuff: boolean;

  constructor(stuff: boolean) {
    this.#stuff = stuff;
  }

  encode(chunk: Buffer): Buffer {
    if (isCleanSmtpData(chunk, this.last)) {
      if (chunk.length) this.last = chunk[chunk.length - 1]!;
      return chunk;
    }
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    let n = 0;
    let prev = this.last;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (prev === CR && b !== LF) out[n++] = LF;
      if (b === LF && prev !== CR) out[n++] = CR;
      if (this.#stuff && b === DOT && (prev === false || prev === LF || prev === CR)) out[n++] = DOT;
      out[n++] = b;
      prev = b;
    }
    this.last = prev;
    return out.subarray(0, n);
  }

  /** What must follow the last chunk: a line end when it has none. */
  end(): Buffer {
    if (this.last === LF || this.last === false) return Buffer.alloc(0);
    return this.last === CR ? Buffer.from('\n') : CRLF;
  }
}

/**
 * The message as DATA content (dot-stuffed, CRLF line ends, ending in CRLF) without the
 * terminating ".\r\n", or as BDAT content (the same without dot-stuffing). A clean message is
 * returned as it is, without a copy.
 */
export function encodeMessage(message: Buffer, stuff: boolean): Buffer {
  const enc = new LineEncoder(stuff);
  const body = enc.encode(message);
  const tail = enc.end();
  return tail.length ? Buffer.concat([body, tail]) : body;
}

/** The same for a message read from a stream (DATA only). */
export class DotStuffer extends Transform {
  readonly #enc = new LineEncoder(true);

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    done(null, this.#enc.encode(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
  }

  override _flush(done: TransformCallback): void {
    const tail = this.#enc.end();
    if (tail.length) this.push(tail);
    done();
  }
}
