import type net from 'node:net';
import tls from 'node:tls';
import { SmtpReply } from '../core/smtp-reply.ts';
import { DataReceiver } from './data.ts';
import { protocolRefusal, readMail, readRcpt } from './envelope.ts';
import { SaslExchange } from './sasl.ts';
import type { SaslStep } from './sasl.ts';
import type { SmtpServerOptions, SmtpSession } from './types.ts';

const LF = 0x0a;
const CR = 0x0d;
/** RFC 4954 4: an AUTH command with its initial response may be 12,288 octets long. */
const MAX_COMMAND_LINE = 12_288;
/** Unread input kept while a handler works; past it the socket stops reading (back-pressure). */
const PAUSE_AT = 256 * 1024;

/** What a connection needs from its server. */
export interface ConnectionHost<T> {
  readonly options: SmtpServerOptions<T>;
  readonly secureContext: tls.SecureContext | null;
  readonly closing: boolean;
  ehloReply(session: SmtpSession<T>): string;
  forget(connection: SmtpConnection<T>): void;
}

type Mode = 'greeting' | 'command' | 'data' | 'sasl' | 'closed';

function cleanIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && ip.indexOf('.') > 0 ? ip.slice(7) : ip;
}

/**
 * One client connection: reads commands line by line (LF or CRLF; a bare CR or NUL in a
 * command is a syntax error), runs them strictly in order, and sends the replies of all the
 * commands read so far in one write once it has to wait for the client again (RFC 2920
 * pipelining costs one write per group, not one per command).
 */
export class SmtpConnection<T> {
  readonly session: SmtpSession<T>;
  readonly #host: ConnectionHost<T>;
  #socket: net.Socket;
  #mode: Mode = 'greeting';
  #buf: Buffer | null = null;
  #pos = 0;
  /** A handler is running: input waits. */
  #busy = true;
  #paused = false;
  #out = '';
  #errors = 0;
  #discardLine = false;
  #data: DataReceiver | null = null;
  #exchange: SaslExchange | null = null;
  #greetTimer: NodeJS.Timeout | null = null;
  readonly #onData = (chunk: Buffer) => this.#receive(chunk);
  readonly #onClose = () => this.#closed();
  readonly #onError = () => this.#socket.destroy();
  readonly #onTimeout = () => this.#timeout();

  constructor(host: ConnectionHost<T>, socket: net.Socket, secure: boolean, id: string) {
    this.#host = host;
    this.#socket = socket;
    this.session = {
      id, remoteAddress: cleanIp(socket.remoteAddress), remotePort: socket.remotePort ?? 0, secure, helo: '', esmtp: false, user: null,
      mailFrom: null, rcptTo: [], body: '7BIT', smtputf8: false, transactions: 0, state: host.options.handlers.state(),
    };
  }

  start(tooMany: boolean): void {
    this.#host.options.observe?.session();
    this.#listen(this.#socket);
    if (tooMany) {
      this.#reply(421, `4.3.2 ${this.#host.options.name} Too many connections, try again later`);
      this.#end();
      return;
    }
    const delay = this.#host.options.greetingDelayMs ?? 0;
    if (delay > 0) this.#greetTimer = setTimeout(() => this.#greet(), delay);
    else this.#greet();
  }

  /** Server shutdown: an idle connection is told 421 now, a busy one after its transaction. */
  shutdown(): void {
    if (this.#greetTimer) {
      clearTimeout(this.#greetTimer);
      this.#greetTimer = null;
      this.#reply(421, `4.3.2 ${this.#host.options.name} Service shutting down, try again later`);
      this.#end();
    } else if (!this.#busy && this.#mode === 'command') {
      this.#run();
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #listen(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
    socket.setTimeout(this.#host.options.idleTimeoutMs ?? 300_000, this.#onTimeout);
  }

  #greet(): void {
    this.#greetTimer = null;
    if (this.#mode !== 'greeting') return;
    const o = this.#host.options;
    this.#busy = false;
    this.#call(() => o.handlers.connect?.(this.session), () => {
      this.#mode = 'command';
      this.#reply(220, `${o.name} ESMTP${o.banner ? ` ${o.banner}` : ''}`);
    });
    if (!this.#busy) this.#run();
  }

  #receive(chunk: Buffer): void {
    if (this.#mode === 'closed') return;
    if (this.#greetTimer) {
      // Spam software talks before the greeting; real MTAs wait for it (RFC 5321 3.1).
      clearTimeout(this.#greetTimer);
      this.#greetTimer = null;
      this.#reply(554, '5.5.1 Protocol error: the client talked before the greeting');
      this.#end();
      return;
    }
    if (this.#buf === null || this.#pos >= this.#buf.length) {
      this.#buf = chunk;
    } else {
      this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), chunk]);
    }
    this.#pos = 0;
    if (!this.#busy) this.#run();
    else if (this.#buf.length > PAUSE_AT && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  /** Works through the input until a handler has to be waited for or the input runs out. */
  #run(): void {
    while (!this.#busy && this.#mode !== 'closed') {
      if (this.#host.closing && this.#mode === 'command') {
        this.#reply(421, `4.3.2 ${this.#host.options.name} Service shutting down, try again later`);
        this.#end();
        return;
      }
      const buf = this.#buf;
      if (!buf || this.#pos >= buf.length) {
        this.#buf = null;
        break;
      }
      if (this.#mode === 'data') {
        const end = this.#data!.push(buf, this.#pos);
        if (end < 0) {
          this.#buf = null;
          break;
        }
        this.#pos = end;
        this.#endData();
        continue;
      }
      const lf = buf.indexOf(LF, this.#pos);
      if (lf < 0) {
        if (buf.length - this.#pos > MAX_COMMAND_LINE) {
          if (!this.#discardLine) this.#error(500, `5.5.2 Line too long (the limit is ${MAX_COMMAND_LINE} octets)`);
          this.#discardLine = true;
          this.#buf = null;
        }
        break;
      }
      const start = this.#pos;
      this.#pos = lf + 1;
      if (this.#discardLine) {
        this.#discardLine = false;
        continue;
      }
      if (lf - start > MAX_COMMAND_LINE) {
        this.#error(500, `5.5.2 Line too long (the limit is ${MAX_COMMAND_LINE} octets)`);
        continue;
      }
      const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
      const cr = buf.indexOf(CR, start);
      const nul = buf.indexOf(0, start);
      if ((cr >= 0 && cr < end) || (nul >= 0 && nul < end)) {
        this.#error(500, '5.5.2 Syntax error: a bare CR or a NUL in the command line');
        if (this.#mode === 'sasl') this.#mode = 'command';
        continue;
      }
      this.#line(buf.toString('utf8', start, end));
    }
    if (!this.#busy) {
      this.#flush();
      if (this.#paused && this.#mode !== 'closed') {
        this.#paused = false;
        this.#socket.resume();
      }
    }
  }

  #line(line: string): void {
    if (this.#mode === 'sasl') return this.#sasl(() => this.#exchange!.next(line));
    const sp = line.indexOf(' ');
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const args = sp < 0 ? '' : line.slice(sp + 1).trim();
    const s = this.session;
    const h = this.#host.options.handlers;
    switch (verb) {
      case 'EHLO':
      case 'HELO': {
        if (!args || /\s/.test(args)) return this.#error(501, `5.5.4 Syntax: ${verb} hostname`);
        this.#resetTransaction();
        s.helo = args;
        s.esmtp = verb === 'EHLO';
        return s.esmtp ? this.#replyRaw(this.#host.ehloReply(s)) : this.#reply(250, this.#host.options.name);
      }
      case 'MAIL':
        return this.#mail(args);
      case 'RCPT':
        return this.#rcpt(args);
      case 'DATA':
        if (!s.mailFrom) return this.#reply(503, '5.5.1 MAIL first');
        if (!s.rcptTo.length) return this.#reply(554, '5.5.1 No valid recipients');
        if (args) return this.#error(501, '5.5.4 Syntax: DATA takes no parameters');
        this.#reply(354, 'End data with <CR><LF>.<CR><LF>');
        this.#mode = 'data';
        this.#data = new DataReceiver(this.#host.options.maxMessageBytes);
        return;
      case 'RSET':
        this.#resetTransaction();
        return this.#reply(250, '2.0.0 Ok');
      case 'NOOP':
        return this.#reply(250, '2.0.0 Ok');
      case 'QUIT':
        this.#reply(221, '2.0.0 Bye');
        return this.#end();
      case 'VRFY':
        return this.#reply(252, '2.5.0 Cannot VRFY user, but will accept the message and attempt delivery');
      case 'HELP':
        return this.#reply(214, '2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY' + (this.#host.secureContext ? ' STARTTLS' : '') + (h.auth && this.#host.options.auth ? ' AUTH' : ''));
      case 'STARTTLS':
        return this.#startTls(args);
      case 'AUTH':
        return this.#auth(args);
      default:
        return this.#error(502, '5.5.1 Command not recognized');
    }
  }

  #mail(args: string): void {
    const s = this.session;
    if (!s.helo) return this.#reply(503, '5.5.1 Send HELO or EHLO first');
    if (s.mailFrom) return this.#reply(503, '5.5.1 Nested MAIL command');
    this.#call(() => {
      const mail = readMail(args, s.esmtp, this.#host.options.maxMessageBytes);
      s.body = mail.body;
      s.smtputf8 = mail.smtputf8;
      const pending = this.#host.options.handlers.mailFrom(s, mail.path);
      return pending instanceof Promise ? pending.then(() => mail.path) : mail.path;
    }, (path) => {
      s.mailFrom = path;
      this.#reply(250, '2.1.0 Ok');
    }, () => {
      s.body = '7BIT';
      s.smtputf8 = false;
    });
  }

  #rcpt(args: string): void {
    const s = this.session;
    if (!s.mailFrom) return this.#reply(503, '5.5.1 MAIL first');
    const max = this.#host.options.maxRecipients ?? 1000;
    this.#call(() => {
      const path = readRcpt(args, s.smtputf8);
      if (s.rcptTo.length >= max) throw new SmtpReply(452, `4.5.3 Too many recipients (at most ${max} per message)`);
      const pending = this.#host.options.handlers.rcptTo(s, path);
      return pending instanceof Promise ? pending.then(() => path) : path;
    }, (path) => {
      s.rcptTo.push(path);
      this.#reply(250, '2.1.5 Ok');
    });
  }

  #endData(): void {
    const data = this.#data!.result();
    this.#data = null;
    this.#mode = 'command';
    const refusal = protocolRefusal(data, this.#host.options.maxMessageBytes);
    if (refusal) {
      this.#fail(refusal);
      this.#resetTransaction();
      return;
    }
    this.#call(() => this.#host.options.handlers.data(this.session, data), (text) => {
      this.session.transactions++;
      this.#reply(250, text);
      this.#resetTransaction();
    }, () => this.#resetTransaction());
  }

  #startTls(args: string): void {
    const ctx = this.#host.secureContext;
    if (!ctx) return this.#error(502, '5.5.1 Command not recognized');
    if (this.session.secure) return this.#reply(503, '5.5.1 TLS is already in use');
    if (this.session.user) return this.#reply(503, '5.5.1 STARTTLS after AUTH is not allowed');
    if (args) return this.#error(501, '5.5.4 Syntax: STARTTLS takes no parameters');
    this.#reply(220, '2.0.0 Ready to start TLS');
    this.#flush();
    // RFC 3207 6: whatever the client pipelined after STARTTLS is discarded, never run as
    // if it had come over TLS (the command injection of CVE-2011-0411).
    this.#buf = null;
    this.#busy = true;
    const raw = this.#socket;
    raw.off('data', this.#onData);
    raw.off('close', this.#onClose);
    raw.off('error', this.#onError);
    raw.setTimeout(0);
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx });
    this.#socket = secure;
    this.#listen(secure);
    secure.once('secure', () => {
      const s = this.session;
      s.secure = true;
      s.helo = '';
      s.esmtp = false;
      this.#resetTransaction();
      this.#busy = false;
      this.#run();
    });
  }

  #auth(args: string): void {
    const s = this.session;
    if (!this.#host.options.auth || !this.#host.options.handlers.auth) return this.#error(502, '5.5.1 Command not recognized');
    if (!s.helo) return this.#reply(503, '5.5.1 Send EHLO first');
    if (s.user) return this.#reply(503, '5.5.1 Already authenticated');
    if (s.mailFrom) return this.#reply(503, '5.5.1 AUTH is not allowed during a mail transaction');
    this.#sasl(() => {
      const { exchange, step } = SaslExchange.start(args);
      this.#exchange = exchange;
      return step;
    });
  }

  /** One step of the AUTH exchange: a challenge (334), or the credentials for the handler. */
  #sasl(step: () => SaslStep): void {
    let next: SaslStep;
    try {
      next = step();
    } catch (err) {
      this.#mode = 'command';
      this.#exchange = null;
      return this.#fail(err);
    }
    if ('challenge' in next) {
      this.#mode = 'sasl';
      return this.#reply(334, next.challenge);
    }
    this.#mode = 'command';
    this.#exchange = null;
    const auth = this.#host.options.handlers.auth!;
    this.#call(() => auth(this.session, next), (user) => {
      this.session.user = user;
      this.#reply(235, '2.7.0 Authentication successful');
    });
  }

  #resetTransaction(): void {
    const s = this.session;
    if (s.mailFrom) this.#host.options.handlers.reset?.(s);
    s.mailFrom = null;
    if (s.rcptTo.length) s.rcptTo = [];
    s.body = '7BIT';
    s.smtputf8 = false;
  }

  /** Runs a handler step; waits (holding further input) when it returns a promise. */
  #call<R>(work: () => R | Promise<R>, done: (value: R) => void, failed?: () => void): void {
    let result: R | Promise<R>;
    try {
      result = work();
    } catch (err) {
      failed?.();
      this.#fail(err);
      return;
    }
    if (!(result instanceof Promise)) {
      done(result);
      return;
    }
    this.#busy = true;
    result.then((value) => {
      this.#busy = false;
      if (this.#mode === 'closed') return;
      done(value);
      this.#run();
    }, (err: unknown) => {
      this.#busy = false;
      if (this.#mode === 'closed') return;
      failed?.();
      this.#fail(err);
      this.#run();
    });
  }

  #fail(err: unknown): void {
    if (err instanceof SmtpReply) {
      this.#reply(err.responseCode, err.message);
      if (err.responseCode === 500 || err.responseCode === 501) this.#countError();
    } else {
      this.#host.options.log?.error({ err, session: this.session.id }, 'smtp handler failed');
      this.#reply(451, '4.3.0 Temporary local problem, try again later');
    }
    // 421 closes the connection (RFC 5321 3.8), and so does a refusal before the greeting.
    if ((err instanceof SmtpReply && err.responseCode === 421) || this.#mode === 'greeting') this.#end();
  }

  #error(code: number, text: string): void {
    this.#reply(code, text);
    this.#countError();
  }

  #countError(): void {
    if (++this.#errors < (this.#host.options.maxErrors ?? 10)) return;
    this.#reply(421, '4.7.0 Too many errors, closing the connection');
    this.#end();
  }

  #reply(code: number, text: string): void {
    if (this.#mode === 'closed') return;
    if (code >= 400) this.#host.options.observe?.refusal(code);
    const lines = text.split('\n');
    for (let i = 0; i < lines.length - 1; i++) this.#out += `${code}-${lines[i]}\r\n`;
    this.#out += text ? `${code} ${lines[lines.length - 1]}\r\n` : `${code} \r\n`;
  }

  #replyRaw(text: string): void {
    if (this.#mode !== 'closed') this.#out += text;
  }

  #flush(): void {
    if (!this.#out) return;
    this.#socket.write(this.#out);
    this.#out = '';
  }

  #end(): void {
    if (this.#mode === 'closed') return;
    this.#mode = 'closed';
    if (this.#greetTimer) clearTimeout(this.#greetTimer);
    const out = this.#out;
    this.#out = '';
    this.#buf = null;
    if (out) this.#socket.write(out);
    // Closed as soon as the last reply is handed to the kernel: the client's own close then
    // meets no socket here (no reset to report, per connection). Should the reply not leave
    // (a client that never reads), the idle timer, shortened, destroys the socket.
    this.#socket.destroySoon();
    this.#socket.setTimeout(5000);
  }

  #timeout(): void {
    if (this.#mode === 'closed') {
      this.#socket.destroy();
      return;
    }
    this.#reply(421, `4.4.2 ${this.#host.options.name} Idle timeout, closing the connection`);
    this.#end();
  }

  #closed(): void {
    if (this.#mode !== 'closed') this.#mode = 'closed';
    if (this.#greetTimer) clearTimeout(this.#greetTimer);
    this.#host.forget(this);
    this.#host.options.handlers.close?.(this.session);
  }
}
