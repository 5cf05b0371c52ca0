import type net from 'node:net';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';

/**
 * The parts of nodemailer's SMTPConnection the egress relies on beyond its public API, typed
 * in one place. nodemailer is pinned to an exact version and the egress tests exercise every
 * path that touches these internals.
 */

/** What nodemailer's connection carries about the transaction; read after failures. */
export interface EnvelopeState {
  accepted?: string[];
  rejected?: string[];
  rejectedErrors?: SmtpError[];
}
export interface SmtpError extends Error {
  code?: string;
  duringStartTls?: boolean;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}
export interface SendInfo {
  accepted: string[];
  rejected: string[];
  rejectedErrors?: SmtpError[];
  response: string;
}
export type Conn = SMTPConnection & {
  _envelope?: EnvelopeState | false;
  upgrading?: boolean;
  secure: boolean;
  // nodemailer internals used to pipeline RSET with the next envelope (see #run); the
  // package is pinned to an exact version and the egress tests cover this path.
  _supportedExtensions?: string[];
  _socket?: net.Socket | false | null;
  _responseActions?: ((str: string) => void)[];
  _sendCommand?: (cmd: string) => void;
  _onError?: (err: Error, type: string, data: string | false, command: string) => void;
  _createSendStream?: (callback: unknown) => DataStreamLike;
};

/** nodemailer's DataStream (dot-stuffing, CRLF) as seen from here. */
export interface DataStreamLike {
  _transform(chunk: Buffer, encoding: string, done: () => void): void;
  _flush(done: () => void): void;
  push(chunk: Buffer): boolean;
  lastByte: number | false;
  inByteCount: number;
  outByteCount: number;
}

/**
 * True when a chunk needs no dot-stuffing and no line-ending repair: every LF follows a CR,
 * every CR precedes an LF, and no line starts with ".". Found with native indexOf calls
 * (a few per line) instead of nodemailer's byte-by-byte loop.
 */
export function isCleanSmtpData(chunk: Buffer, lastByte: number | false): boolean {
  if (chunk.length === 0) return true;
  if (chunk[0] === 0x2e && (lastByte === false || lastByte === 0x0a)) return false;
  if (chunk[0] === 0x0a && lastByte !== 0x0d) return false;
  if (lastByte === 0x0d && chunk[0] !== 0x0a) return false;
  for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
    if (i > 0 && chunk[i - 1] !== 0x0d) return false;
    if (chunk[i + 1] === 0x2e) return false;
  }
  for (let i = chunk.indexOf(0x0d); i >= 0; i = chunk.indexOf(0x0d, i + 1)) {
    // A CR as the chunk's last byte is judged with the next chunk (lastByte above).
    if (i + 1 < chunk.length && chunk[i + 1] !== 0x0a) return false;
  }
  return true;
}

/**
 * Per-session tuning of nodemailer's DATA path (instance properties only, nothing global):
 * clean chunks skip the byte-by-byte escaping loop, and for Buffer messages the socket is
 * corked until the terminating dot so body and terminator leave in one write.
 */
export function tuneDataPath(conn: Conn, corkBody: () => boolean): void {
  const original = conn._createSendStream;
  if (!original) return;
  conn._createSendStream = function (this: Conn, callback: unknown): DataStreamLike {
    const ds = original.call(this, callback);
    const proto = Object.getPrototypeOf(ds) as DataStreamLike;
    ds._transform = function (this: DataStreamLike, chunk: Buffer, encoding: string, done: () => void) {
      if (!Buffer.isBuffer(chunk) || !isCleanSmtpData(chunk, this.lastByte)) return proto._transform.call(this, chunk, encoding, done);
      this.inByteCount += chunk.length;
      this.outByteCount += chunk.length;
      this.lastByte = chunk[chunk.length - 1]!;
      this.push(chunk);
      done();
    };
    const socket = this._socket;
    if (corkBody() && socket) {
      socket.cork();
      ds._flush = function (this: DataStreamLike, done: () => void) {
        proto._flush.call(this, () => {
          done();
          socket.uncork();
        });
      };
    }
    return ds;
  };
}
