/**
 * The DATA phase of an SMTP transaction, read as a stream of chunks: dot-unstuffing, the end
 * of the data, size counting and the line checks, in one pass over the bytes.
 *
 * - The data ends only at <CRLF>.<CRLF> (RFC 5321 4.1.1.4). A line holding only "." that ends
 *   in a bare LF, or follows a line that did, ends nothing: it is the signature of SMTP
 *   smuggling (a next hop reading the data differently would see a second message), and it
 *   is reported so the message can be refused.
 * - A line ending in a bare LF is stored with CRLF (many Unix programs write bare LFs); a bare
 *   CR is reported (it never ends a line here, and some servers would end one at it).
 * - Past `maxBytes` nothing more is kept: the rest is read to its end and thrown away, so a
 *   client streaming gigabytes costs CPU, never memory.
 * - NUL bytes, lines over 998 octets (RFC 5322 2.1.1) and 8-bit bytes are reported with the
 *   first line they occur in; what to do with them is the listener's policy.
 */
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const CR_ONLY = Buffer.from('\r');

/** The longest line RFC 5322 allows, CRLF excluded. */
export const MAX_LINE_OCTETS = 998;

export interface DataIssues {
  /** First line (1-based) with a NUL byte; 0 for none. */
  nulLine: number;
  /** First line longer than 998 octets, and its length; 0 for none. */
  longLine: number;
  longLineLength: number;
  /** First line with a CR not followed by LF; 0 for none. */
  bareCrLine: number;
  /** Lines that ended with a bare LF (stored with CRLF). */
  bareLfLines: number;
  /** A lone "." line next to a bare LF: an SMTP smuggling attempt or a broken client. */
  loneDot: boolean;
  /** Any byte above 0x7f. */
  eightBit: boolean;
}

export interface ReceivedData {
  /** The message as stored (unstuffed, CRLF line ends); null when it went over the limit. */
  raw: Buffer | null;
  /** Bytes of message seen (all of them, also past the limit). */
  size: number;
  oversized: boolean;
  issues: DataIssues;
}

export class DataReceiver {
  readonly #maxBytes: number;
  #pieces: Buffer[] | null = [];
  #size = 0;
  #line = 1;
  /** Content octets of the current line so far (stuffing dot, CR and LF not counted). */
  #lineLen = 0;
  /** The current line began with a dot (removed: dot-stuffing). */
  #dotLine = false;
  /** Wire bytes of the current line so far, the stuffing dot included. */
  #lineWire = 0;
  /** The previous chunk ended in a CR that is not stored yet (it may start a CRLF, or end the data). */
  #heldCr = false;
  /** The previous line ended with CRLF (the data starts as if after one). */
  #prevCrlf = true;
  readonly issues: DataIssues = { nulLine: 0, longLine: 0, longLineLength: 0, bareCrLine: 0, bareLfLines: 0, loneDot: false, eightBit: false };

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  #keep(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#size += piece.length;
    if (!this.#pieces) return;
    if (this.#size > this.#maxBytes) {
      this.#pieces = null;
      return;
    }
    this.#pieces.push(piece);
  }

  /**
   * Reads `chunk` from `start`. Returns the offset just past the end-of-data line (the bytes
   * after it are the client's next commands), or -1 when the data goes on.
   */
  push(chunk: Buffer, start = 0): number {
    let run = start;
    let i = start;
    const len = chunk.length;
    if (this.#heldCr && i < len) {
      this.#heldCr = false;
      if (chunk[i] === LF) {
        const end = this.#endLine(true);
        if (end) return i + 1;
        this.#keep(CRLF);
        run = ++i;
      } else {
        this.#bareCr();
        this.#keep(CR_ONLY);
        this.#lineLen++;
        this.#lineWire++;
      }
    }
    for (; i < len; i++) {
      const b = chunk[i]!;
      if (b === LF) {
        const crlf = i > start && chunk[i - 1] === CR;
        if (crlf) {
          // A well-formed line stays in the current run of bytes: no copy, no piece.
          if (this.#endLine(true)) return i + 1;
          continue;
        }
        this.issues.bareLfLines++;
        if (this.#endLine(false)) return i + 1;
        this.#keep(chunk.subarray(run, i));
        this.#keep(CRLF);
        run = i + 1;
        continue;
      }
      if (b === CR) {
        if (i + 1 < len) {
          if (chunk[i + 1] === LF) continue;
          this.#bareCr();
        } else {
          // The chunk ends in a CR: store what comes before; the next chunk tells what it is.
          this.#keep(chunk.subarray(run, i));
          this.#heldCr = true;
          return -1;
        }
      } else if (this.#lineWire === 0 && b === DOT) {
        // Dot-stuffing: the first dot of a line is not part of the message.
        this.#keep(chunk.subarray(run, i));
        run = i + 1;
        this.#dotLine = true;
        this.#lineWire = 1;
        continue;
      } else if (b === 0) {
        if (!this.issues.nulLine) this.issues.nulLine = this.#line;
      } else if (b > 0x7f) {
        this.issues.eightBit = true;
      }
      this.#lineLen++;
      this.#lineWire++;
    }
    this.#keep(chunk.subarray(run, len));
    return -1;
  }

  #bareCr(): void {
    if (!this.issues.bareCrLine) this.issues.bareCrLine = this.#line;
  }

  /** Ends the current line; true when it was the end of the data. */
  #endLine(crlf: boolean): boolean {
    const loneDot = this.#dotLine && this.#lineLen === 0;
    if (loneDot) {
      if (crlf && this.#prevCrlf) return true;
      this.issues.loneDot = true;
    }
    if (this.#lineLen > MAX_LINE_OCTETS && !this.issues.longLine) {
      this.issues.longLine = this.#line;
      this.issues.longLineLength = this.#lineLen;
    }
    this.#prevCrlf = crlf;
    this.#line++;
    this.#lineLen = 0;
    this.#lineWire = 0;
    this.#dotLine = false;
    return false;
  }

  result(): ReceivedData {
    // A line running to the end without a line break still counts for the length check.
    if (this.#lineLen > MAX_LINE_OCTETS && !this.issues.longLine) {
      this.issues.longLine = this.#line;
      this.issues.longLineLength = this.#lineLen;
    }
    const oversized = this.#pieces === null;
    return { raw: oversized ? null : Buffer.concat(this.#pieces!, this.#size), size: this.#size, oversized, issues: this.issues };
  }
}
