/**
 * The egress SMTP client: one session to one host. Where the server offers PIPELINING, a
 * transaction's commands leave in one write, and the next transaction's commands leave with
 * the previous message's content (RFC 2920 3.1 lets content lead a group); where it offers
 * CHUNKING, a message goes as BDAT with its envelope, no 354 round trip (RFC 3030). 8-bit
 * content is declared BODY=8BITMIME and non-ASCII addresses SMTPUTF8, and a server that
 * cannot take them gets nothing (the transaction fails locally with 5.6.3 / 5.6.7).
 * The session never throws for what the server does: every transaction settles with the
 * replies it got and, when it ended early, why.
 */
import { isAscii } from 'node:buffer';
import net from 'node:net';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { DotStuffer, encodeMessage } from './smtp-data.ts';

export { isCleanSmtpData } from './smtp-data.ts';

export interface ClientReply {
  code: number;
  /** The reply as received, lines joined with CRLF. */
  raw: string;
}

export class SmtpClientError extends Error {
  readonly code: string;
  /** The server's reply when one ended the step (greeting, EHLO, STARTTLS). */
  readonly response?: string;
  duringStartTls = false;
  constructor(code: string, message: string, response?: string) {
    super(message);
    this.name = 'SmtpClientError';
    this.code = code;
    this.response = response;
  }
}

export interface ClientOptions {
  host: string;
  port: number;
  localAddress?: string;
  heloName: string;
  /** Try STARTTLS when offered (any certificate: opportunistic). */
  startTls: boolean;
  servername?: string;
  connectTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
  /** RSET before every transaction after the first (otherwise only after one that did not end cleanly). */
  rsetBetweenMessages: boolean;
}

export interface TransactionInput {
  mailFrom: string;
  recipients: string[];
  message: Buffer | Readable;
}

/** What one transaction got; `error` says why it ended before its final reply, if it did. */
export interface TransactionOutcome {
  mail: ClientReply | null;
  rcpt: (ClientReply | null)[];
  /** The reply to the end of the content (or to DATA/BDAT when that was refused). */
  data: ClientReply | null;
  /** The content went out (an answer may be missing: the message may have arrived). */
  contentSent: boolean;
  error: SmtpClientError | null;
  /** Refused here before anything was sent: a permanent local failure with this status. */
  local: { enhanced: string; text: string } | null;
}

interface Pending {
  input: TransactionInput;
  outcome: TransactionOutcome;
  resolve: (o: TransactionOutcome) => void;
  done: boolean;
}

/** A reply awaited; `data` marks DATA's, whose 354 the commands after it must wait for. */
type Expect = { on: (reply: ClientReply) => void; data?: true };
/** Bytes for the wire and the replies they will bring. */
type Unit = { parts: (string | Buffer)[]; expect: Expect[] };
const IGNORE: Expect = { on: () => undefined };

export class SmtpClient {
  readonly host: string;
  readonly extensions = new Map<string, string>();
  secure = false;
  #socket: net.Socket;
  readonly #opts: ClientOptions;
  #buf = '';
  #lines: string[] = [];
  readonly #expect: Expect[] = [];
  readonly #txs: Pending[] = [];
  /** Units not written yet: they wait for a 354 (or, without PIPELINING, for every reply). */
  #queue: Unit[] = [];
  #awaiting354 = false;
  #streaming = false;
  #started = 0;
  #needsReset = false;
  #dead: SmtpClientError | null = null;
  #noMoreContent = false;
  readonly closed: Promise<void>;
  #onClosed!: () => void;

  private constructor(socket: net.Socket, opts: ClientOptions) {
    this.#socket = socket;
    this.#opts = opts;
    this.host = opts.host;
    this.closed = new Promise((r) => (this.#onClosed = r));
  }

  /** Connects, reads the greeting, says EHLO (HELO if refused) and upgrades with STARTTLS when offered. */
  static async connect(opts: ClientOptions): Promise<SmtpClient> {
    const socket = net.connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
    const client = new SmtpClient(socket, opts);
    client.#listen(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SmtpClientError('ETIMEDOUT', `connection to ${opts.host}:${opts.port} timed out`)), opts.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new SmtpClientError(err.code ?? 'ECONNECTION', err.message));
      });
    }).catch((err: unknown) => {
      socket.destroy();
      throw err;
    });
    socket.setNoDelay(true);
    try {
      const greeting = await client.#reply(opts.greetingTimeoutMs);
      if (greeting.code !== 220) throw new SmtpClientError('EPROTOCOL', `greeting refused: ${greeting.raw}`, greeting.raw);
      await client.#hello();
      if (opts.startTls && client.extensions.has('STARTTLS')) {
        const r = await client.#command('STARTTLS');
        // A refused STARTTLS (454) leaves the session in plain text, as it was.
        if (r.code === 220) {
          await client.#upgrade();
          await client.#hello();
        }
      }
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  get alive(): boolean {
    return this.#dead === null;
  }

  /** Transactions handed over and not settled yet. */
  get inFlight(): number {
    return this.#txs.length;
  }

  /** A transaction's content has gone out and its final reply has not come: closing now leaves it unknown whether it arrived. */
  get awaitingFinalReply(): boolean {
    return this.#txs.some((tx) => !tx.done && tx.outcome.contentSent);
  }

  /**
   * Shutdown: lets a message whose content is out wait for its reply, but sends no further
   * content; a later transaction ends (session closed) at its 354, before anything arrived.
   */
  sendNoMoreContent(): void {
    this.#noMoreContent = true;
    if (!this.awaitingFinalReply) this.#fail(new SmtpClientError('ECONNECTION', 'session closed: shutting down'));
  }

  get pipelining(): boolean {
    return this.extensions.has('PIPELINING');
  }

  /** Runs one transaction; settles with its outcome, never rejects. */
  send(input: TransactionInput): Promise<TransactionOutcome> {
    const outcome: TransactionOutcome = { mail: null, rcpt: input.recipients.map(() => null), data: null, contentSent: false, error: null, local: null };
    const refusal = this.#refusal(input);
    if (refusal) return Promise.resolve({ ...outcome, local: refusal });
    if (this.#dead) return Promise.resolve({ ...outcome, error: this.#dead });
    return new Promise((resolve) => {
      const tx: Pending = { input, outcome, resolve, done: false };
      this.#txs.push(tx);
      this.#start(tx);
    });
  }

  /** Says QUIT and closes (the server may close first). */
  quit(): void {
    if (this.#dead) return;
    this.#dead = new SmtpClientError('ECONNECTION', 'session closed');
    this.#socket.end('QUIT\r\n');
    this.#socket.setTimeout(5000, () => this.#socket.destroy());
  }

  close(): void {
    this.#socket.destroy();
  }

  // ---- transactions ------------------------------------------------------------------

  #refusal(input: TransactionInput): { enhanced: string; text: string } | null {
    const utf8Addresses = !isAscii(Buffer.from(input.mailFrom + input.recipients.join('')));
    if (utf8Addresses && !this.extensions.has('SMTPUTF8')) return { enhanced: '5.6.7', text: `${this.host} does not offer SMTPUTF8, which the non-ASCII addresses need (RFC 6531)` };
    if (!Buffer.isBuffer(input.message)) return null;
    const max = Number(this.extensions.get('SIZE') ?? 0);
    if (max > 0 && input.message.length > max) return { enhanced: '5.3.4', text: `message is larger than the server accepts: ${input.message.length} bytes, ${this.host} takes at most ${max}` };
    if (!isAscii(input.message) && !this.extensions.has('8BITMIME')) {
      return { enhanced: '5.6.3', text: `${this.host} does not offer 8BITMIME and the message has 8-bit content (RFC 6152); it is not converted, which would break its DKIM signature` };
    }
    return null;
  }

  #start(tx: Pending): void {
    const { mailFrom, recipients, message } = tx.input;
    const buffer = Buffer.isBuffer(message) ? message : null;
    let params = '';
    // A stream's content is not known in advance: declared 8-bit, which covers 7-bit too.
    if ((buffer ? !isAscii(buffer) : true) && this.extensions.has('8BITMIME')) params += ' BODY=8BITMIME';
    if (this.extensions.has('SMTPUTF8') && (!isAscii(Buffer.from(mailFrom + recipients.join(''))) || (buffer && !isAscii(headerBlock(buffer))))) params += ' SMTPUTF8';
    if (buffer && this.extensions.has('SIZE')) params += ` SIZE=${buffer.length}`;
    const units: Unit[] = [];
    if (this.#started++ > 0 && (this.#opts.rsetBetweenMessages || this.#needsReset)) units.push({ parts: ['RSET\r\n'], expect: [IGNORE] });
    this.#needsReset = false;
    units.push({ parts: [`MAIL FROM:<${mailFrom}>${params}\r\n`], expect: [{ on: (r) => void (tx.outcome.mail = r) }] });
    recipients.forEach((rcpt, i) => units.push({ parts: [`RCPT TO:<${rcpt}>\r\n`], expect: [{ on: (r) => void (tx.outcome.rcpt[i] = r) }] }));
    if (buffer && this.extensions.has('CHUNKING')) {
      const content = encodeMessage(buffer, false);
      tx.outcome.contentSent = true;
      units.push({ parts: [`BDAT ${content.length} LAST\r\n`, content], expect: [{ on: (r) => this.#final(tx, r) }] });
    } else {
      units.push({ parts: ['DATA\r\n'], expect: [{ on: (r) => this.#dataReply(tx, r), data: true }] });
    }
    this.#queue.push(...units);
    this.#pump();
  }

  /**
   * Writes what may go now in one write: with PIPELINING everything up to and including the
   * next DATA (whose 354 the rest waits for); without it, one command at a time.
   */
  #pump(): void {
    if (this.#dead || this.#awaiting354 || this.#streaming) return;
    const parts: (string | Buffer)[] = [];
    const expect: Expect[] = [];
    while (this.#queue.length) {
      if (!this.pipelining && (this.#expect.length || expect.length)) break;
      const unit = this.#queue.shift()!;
      parts.push(...unit.parts);
      expect.push(...unit.expect);
      if (unit.expect.some((e) => e.data)) {
        this.#awaiting354 = true;
        break;
      }
    }
    if (!parts.length) return;
    this.#expect.push(...expect);
    const socket = this.#socket;
    if (parts.length === 1) {
      socket.write(parts[0]!);
      return;
    }
    socket.cork();
    for (const p of parts) socket.write(p);
    socket.uncork();
  }

  #dataReply(tx: Pending, r: ClientReply): void {
    this.#awaiting354 = false;
    if (r.code !== 354) {
      tx.outcome.data = r;
      this.#needsReset = true;
      this.#settle(tx);
      return;
    }
    const accepted = (tx.outcome.mail?.code ?? 0) < 400 && tx.outcome.rcpt.some((x) => x !== null && x.code < 400);
    if (!accepted) {
      // A server that says 354 with no recipient accepted gets an empty message (RFC 2920 3.1).
      this.#needsReset = true;
      this.#queue.unshift({ parts: ['.\r\n'], expect: [IGNORE] });
      this.#settle(tx);
      return;
    }
    if (this.#noMoreContent) {
      this.#fail(new SmtpClientError('ECONNECTION', 'session closed before the content: shutting down'));
      return;
    }
    tx.outcome.contentSent = true;
    const message = tx.input.message;
    if (Buffer.isBuffer(message)) {
      // The content leads the next group: the next transaction's commands leave with it.
      this.#queue.unshift({ parts: [encodeMessage(message, true), '.\r\n'], expect: [{ on: (fin) => this.#final(tx, fin) }] });
      return;
    }
    this.#streaming = true;
    const stuffer = new DotStuffer();
    message.once('error', (err) => this.#fail(new SmtpClientError('ESTREAM', `reading the message failed: ${err.message}`)));
    message.pipe(stuffer);
    stuffer.pipe(this.#socket, { end: false });
    stuffer.once('end', () => {
      stuffer.unpipe(this.#socket);
      this.#streaming = false;
      this.#queue.unshift({ parts: ['.\r\n'], expect: [{ on: (fin) => this.#final(tx, fin) }] });
      this.#pump();
    });
  }

  #final(tx: Pending, r: ClientReply): void {
    tx.outcome.data = r;
    this.#settle(tx);
  }

  #settle(tx: Pending): void {
    if (tx.done) return;
    tx.done = true;
    const i = this.#txs.indexOf(tx);
    if (i >= 0) this.#txs.splice(i, 1);
    tx.resolve(tx.outcome);
  }

  /** Ends the session: every transaction still open settles with `err`. */
  #fail(err: SmtpClientError): void {
    if (!this.#dead || this.#dead.message === 'session closed') this.#dead = err;
    for (const w of this.#setupWaiters.splice(0)) w(err);
    for (const tx of [...this.#txs]) {
      tx.outcome.error = err;
      this.#settle(tx);
    }
    this.#expect.length = 0;
    this.#queue = [];
    this.#socket.destroy();
  }

  // ---- session set-up ----------------------------------------------------------------

  async #hello(): Promise<void> {
    let r = await this.#command(`EHLO ${this.#opts.heloName}`);
    this.extensions.clear();
    if (r.code >= 500) r = await this.#command(`HELO ${this.#opts.heloName}`);
    if (r.code !== 250) throw new SmtpClientError('EPROTOCOL', `EHLO refused: ${r.raw}`, r.raw);
    for (const line of r.raw.split('\r\n').slice(1)) {
      const [keyword = '', ...rest] = line.slice(4).trim().split(/\s+/);
      if (keyword) this.extensions.set(keyword.toUpperCase(), rest.join(' '));
    }
  }

  async #upgrade(): Promise<void> {
    const raw = this.#socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('error');
    raw.removeAllListeners('close');
    raw.removeAllListeners('timeout');
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: this.#opts.servername });
    this.#socket = secure;
    this.#listen(secure);
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error) => reject(Object.assign(new SmtpClientError('ETLS', `TLS handshake with ${this.host} failed: ${err.message}`), { duringStartTls: true }));
      secure.once('secureConnect', () => {
        secure.off('error', failed);
        resolve();
      });
      secure.once('error', failed);
      secure.once('close', () => failed(new Error('connection closed during the handshake')));
    });
    this.secure = true;
  }

  #command(line: string, timeoutMs = this.#opts.socketTimeoutMs): Promise<ClientReply> {
    this.#socket.write(`${line}\r\n`);
    return this.#reply(timeoutMs);
  }

  #reply(timeoutMs: number): Promise<ClientReply> {
    return new Promise((resolve, reject) => {
      if (this.#dead) return reject(this.#dead);
      const timer = setTimeout(() => this.#fail(new SmtpClientError('ETIMEDOUT', `no reply from ${this.host} in ${timeoutMs} ms`)), timeoutMs);
      const settle = (r: ClientReply | SmtpClientError) => {
        clearTimeout(timer);
        if (r instanceof SmtpClientError) reject(r);
        else resolve(r);
      };
      this.#setupWaiters.push(settle);
      this.#expect.push({ on: (r) => {
        this.#setupWaiters.splice(this.#setupWaiters.indexOf(settle), 1);
        settle(r);
      } });
    });
  }

  readonly #setupWaiters: ((r: SmtpClientError) => void)[] = [];

  // ---- reading -----------------------------------------------------------------------

  #listen(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.#read(d));
    socket.on('error', (err: NodeJS.ErrnoException) => this.#lost(new SmtpClientError(err.code ?? 'ECONNECTION', err.message)));
    socket.on('close', () => {
      this.#lost(new SmtpClientError('ECONNECTION', `connection to ${this.host} closed`));
      this.#onClosed();
    });
    socket.setTimeout(this.#opts.socketTimeoutMs, () => {
      // Only a session that waits for an answer times out; an idle one is the pool's to close.
      if (this.#expect.length || this.#streaming) this.#fail(new SmtpClientError('ETIMEDOUT', `no reply from ${this.host} in ${this.#opts.socketTimeoutMs} ms`));
    });
  }

  #lost(err: SmtpClientError): void {
    if (this.#txs.length || this.#setupWaiters.length || !this.#dead) this.#fail(err);
  }

  #read(data: string): void {
    this.#buf += data;
    let replied = false;
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl).replace(/\r$/, '');
      this.#buf = this.#buf.slice(nl + 1);
      this.#lines.push(line);
      // "250-..." continues a reply; "250 ...", "250" and anything else ends it.
      if (/^\d{3}-/.test(line)) continue;
      const lines = this.#lines;
      this.#lines = [];
      const code = Number(lines[0]!.slice(0, 3)) || 0;
      this.#expect.shift()?.on({ code, raw: lines.join('\r\n') });
      replied = true;
    }
    // What may go now is written after the transactions these replies settled have had their
    // turn: the pool hands this session its next transaction then, and that one's commands
    // leave in the same write as the content a 354 just asked for.
    if (replied) queueMicrotask(() => this.#pump());
    if (this.#buf.length > 65_536) this.#fail(new SmtpClientError('EPROTOCOL', `${this.host} sent a line longer than 64 KiB`));
  }
}

/** The header block of a message (up to the first empty line). */
function headerBlock(message: Buffer): Buffer {
  const end = message.indexOf('\r\n\r\n');
  return end < 0 ? message : message.subarray(0, end);
}
