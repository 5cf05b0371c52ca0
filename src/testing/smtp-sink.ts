import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { generate } from 'selfsigned';

/**
 * A scriptable SMTP sink on loopback for tests and the benchmark: each recipient (by full
 * address or local part) gets a behaviour, a real SMTP answer over a real socket. Captures
 * messages (envelope + raw) unless `capture: false`, when it only counts (benchmark).
 */
export type SinkBehaviour =
  /** 250 at RCPT and at the end of DATA. */
  | 'accept'
  /** 421 4.7.0 at RCPT, then the sink closes the connection. */
  | 'close-421'
  /** 450 4.2.1 mailbox temporarily unavailable, at RCPT. */
  | 'defer-450'
  /** 451 4.7.1 rate limit exceeded, at RCPT. */
  | 'ratelimit-451'
  /** 550 5.1.1 user unknown, at RCPT. */
  | 'unknown-550'
  /** 552 5.2.2 mailbox full, for the whole message at the end of DATA. */
  | 'full-552'
  /** Reads part of the DATA, then drops the connection without a reply. */
  | 'drop-data'
  /** Drops the connection at RCPT without a reply (a stale session the server already closed). */
  | 'drop-rcpt'
  /** Answers RCPT and the end of DATA after a delay, then behaves as `then` (accept). */
  | { slowMs: number; then?: SinkBehaviour }
  /** Any reply at RCPT, or at the end of DATA for the whole message. */
  | { code: number; enhanced?: string; text: string; stage?: 'rcpt' | 'data'; close?: boolean };

export interface SinkMessage {
  connectionId: string;
  /** 1 for the first message of a connection, 2 for the next, ... */
  transaction: number;
  mailFrom: string;
  /** MAIL FROM parameters as the client gave them (keys upper-case), e.g. BODY=8BITMIME. */
  mailParams: Record<string, string | true>;
  recipients: string[];
  raw: Buffer;
  secure: boolean;
  /** The client's address (the egress source IP) and the name it gave in EHLO/HELO. */
  remoteAddress: string;
  heloName: string;
  receivedAt: number;
}

export interface SinkCounters {
  connections: number;
  activeConnections: number;
  maxConcurrentConnections: number;
  tlsSessions: number;
  messages: number;
  recipients: number;
  rejectedRecipients: number;
  /** Message bytes; the count-only responder counts them as on the wire (dot-stuffed, with the final dot). */
  bytes: number;
  /** Counted with `traceCommands` on unencrypted sessions, and always by the count-only responder. */
  rsets: number;
  drops: number;
}

export interface SmtpSinkOptions {
  host?: string;
  /** Behaviour by full address or by local part; the default applies to the rest. */
  rules?: Record<string, SinkBehaviour>;
  /** Replies to MAIL FROM by envelope sender (full address); the reply of the behaviour is used. */
  senderRules?: Record<string, SinkBehaviour>;
  default?: SinkBehaviour;
  /** Keep received messages (default true). false: count only, for the benchmark. */
  capture?: boolean;
  /** Offer STARTTLS with a self-signed certificate (default true). */
  starttls?: boolean;
  /** Count RSET commands seen on unencrypted sessions. */
  traceCommands?: boolean;
  /** Refuse every connection with this greeting (e.g. 421 or 554). */
  greeting?: { code: number; text: string };
  maxMessageBytes?: number;
  /** Name in the banner and EHLO reply. */
  name?: string;
  /** Port to listen on (default 0, a free one): MTAs that give every next hop one port need it fixed. */
  port?: number;
}

let certPromise: Promise<{ key: string; cert: string }> | undefined;
/** One self-signed pair per process; making RSA keys is slow. */
function testCertificate(): Promise<{ key: string; cert: string }> {
  certPromise ??= generate([{ name: 'commonName', value: 'sink.fanout.test' }], { keySize: 2048, days: 30 } as Parameters<typeof generate>[1]).then((r) => ({ key: r.private, cert: r.cert }));
  return certPromise;
}

const REPLY: Record<Exclude<SinkBehaviour, object | 'accept' | 'drop-data' | 'drop-rcpt'>, { code: number; text: string; stage: 'rcpt' | 'data'; close?: boolean }> = {
  'close-421': { code: 421, text: '4.7.0 Too many connections, try again later', stage: 'rcpt', close: true },
  'defer-450': { code: 450, text: '4.2.1 Mailbox temporarily unavailable', stage: 'rcpt' },
  'ratelimit-451': { code: 451, text: '4.7.1 Rate limit exceeded, try again later', stage: 'rcpt' },
  'unknown-550': { code: 550, text: '5.1.1 User unknown', stage: 'rcpt' },
  'full-552': { code: 552, text: '5.2.2 Mailbox full', stage: 'data' },
};

type Reply = { code: number; text: string; stage: 'rcpt' | 'data'; close?: boolean };

/** The reply a behaviour gives (slow behaviours: the one after the delay); null = accept/drop. */
function replyOf(b: SinkBehaviour): Reply | null {
  if (typeof b === 'string') return b in REPLY ? REPLY[b as keyof typeof REPLY] : null;
  if ('slowMs' in b) return replyOf(b.then ?? 'accept');
  return { code: b.code, text: b.enhanced ? `${b.enhanced} ${b.text}` : b.text, stage: b.stage ?? 'rcpt', close: b.close };
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

function mailParams(args: Record<string, string | boolean> | false | undefined): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const [k, v] of Object.entries(args || {})) if (v !== false) out[k.toUpperCase()] = v === true ? true : String(v);
  return out;
}

const CRLF = Buffer.from('\r\n');
const DATA_END = Buffer.from('\r\n.\r\n');

/**
 * Offset just past the end-of-data marker in `chunk` (searching from `pos`), or -1. `tail`
 * holds the last data bytes before `pos` (CRLF at the start of DATA), so a marker split
 * across reads is found too.
 */
export function findDataEnd(chunk: Buffer, pos: number, tail: Buffer): number {
  const head = Buffer.concat([tail, chunk.subarray(pos, pos + 4)]);
  const i = head.indexOf(DATA_END);
  if (i >= 0 && i < tail.length) return pos + i + DATA_END.length - tail.length;
  const j = chunk.indexOf(DATA_END, pos);
  return j < 0 ? -1 : j + DATA_END.length;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SmtpSink {
  readonly host: string;
  port = 0;
  readonly messages: SinkMessage[] = [];
  /** The sink's own log: every final answer it gave a recipient (refusal at RCPT, or the reply to DATA), when capturing. */
  readonly replies: { recipient: string; code: number; at: number }[] = [];
  readonly counters: SinkCounters = { connections: 0, activeConnections: 0, maxConcurrentConnections: 0, tlsSessions: 0, messages: 0, recipients: 0, rejectedRecipients: 0, bytes: 0, rsets: 0, drops: 0 };
  rules: Map<string, SinkBehaviour>;
  defaultBehaviour: SinkBehaviour;
  readonly #opts: SmtpSinkOptions;
  readonly #sockets = new Map<string, net.Socket>();
  #server: SMTPServer | null = null;
  #fast: net.Server | null = null;
  #waiters: { n: number; resolve: () => void }[] = [];

  private constructor(opts: SmtpSinkOptions) {
    this.#opts = opts;
    this.host = opts.host ?? '127.0.0.1';
    this.rules = new Map(Object.entries(opts.rules ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.defaultBehaviour = opts.default ?? 'accept';
  }

  static async start(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
    const sink = new SmtpSink(opts);
    await sink.#listen();
    return sink;
  }

  /** Sets the behaviour for an address or local part. */
  setRule(who: string, behaviour: SinkBehaviour): void {
    this.rules.set(who.toLowerCase(), behaviour);
  }

  /** Forgets captured messages and zeroes the counters (except activeConnections). */
  reset(): void {
    this.messages.length = 0;
    this.replies.length = 0;
    const active = this.counters.activeConnections;
    for (const k of Object.keys(this.counters) as (keyof SinkCounters)[]) this.counters[k] = 0;
    this.counters.activeConnections = active;
    this.counters.maxConcurrentConnections = active;
  }

  /** Resolves once `n` messages have been accepted in total. */
  waitForMessages(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.counters.messages >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { n, resolve: () => { clearTimeout(timer); resolve(); } };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new Error(`sink: ${this.counters.messages} of ${n} messages after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }

  async close(): Promise<void> {
    for (const s of this.#sockets.values()) s.destroy();
    const server = this.#server ?? this.#fast;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** Whether this sink runs the minimal count-only responder (see #listenFast). */
  get fast(): boolean {
    return this.#fast !== null;
  }

  behaviourFor(address: string): SinkBehaviour {
    const a = address.toLowerCase();
    return this.rules.get(a) ?? this.rules.get(a.slice(0, a.lastIndexOf('@'))) ?? this.defaultBehaviour;
  }

  async #listen(): Promise<void> {
    const o = this.#opts;
    const plainAccept = (o.default === undefined || o.default === 'accept') && !o.rules && !o.senderRules && !o.greeting && !o.traceCommands && o.maxMessageBytes === undefined;
    if (o.capture === false && o.starttls === false && plainAccept) return this.#listenFast();
    const tlsOn = this.#opts.starttls ?? true;
    const cert = tlsOn ? await testCertificate() : undefined;
    const server = new SMTPServer({
      name: this.#opts.name ?? 'sink.fanout.test',
      banner: 'Fanout test sink',
      logger: false,
      disabledCommands: tlsOn ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      authOptional: true,
      // Replies carry their own enhanced codes (e.g. 5.1.1), so the server's defaults stay off.
      hideENHANCEDSTATUSCODES: true,
      size: this.#opts.maxMessageBytes,
      key: cert?.key,
      cert: cert?.cert,
      maxClients: 10_000,
      // No DNS on test machines: a reverse look-up per connection would stall each one.
      disableReverseLookup: true,
      onConnect: (session, cb) => this.#onConnect(session, cb),
      onSecure: (_socket, _session, cb) => {
        this.counters.tlsSessions++;
        cb();
      },
      onMailFrom: (address: SMTPServerAddress, _s: SMTPServerSession, cb: (err?: Error | null) => void) => {
        const b = this.#opts.senderRules?.[address.address.toLowerCase()];
        const reply = b ? replyOf(b) : null;
        cb(reply ? smtpError(reply.code, reply.text) : null);
      },
      onRcptTo: (address, session, cb) => void this.#onRcpt(address, session, cb),
      onData: (stream, session, cb) => this.#onData(stream, session, cb),
      onClose: () => {
        this.counters.activeConnections--;
      },
    });
    this.#server = server;
    const net0 = (server as unknown as { server: net.Server }).server;
    net0.on('connection', (socket: net.Socket) => {
      const key = `${socket.remoteAddress}:${socket.remotePort}`;
      this.#sockets.set(key, socket);
      socket.once('close', () => this.#sockets.delete(key));
      if (this.#opts.traceCommands) {
        socket.on('data', (chunk: Buffer) => {
          // Cheap scan for RSET lines in the client's byte stream (plain sessions only).
          let i = chunk.indexOf('RSET\r\n');
          while (i >= 0) {
            if (i === 0 || chunk[i - 1] === 0x0a) this.counters.rsets++;
            i = chunk.indexOf('RSET\r\n', i + 6);
          }
        });
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port ?? 0, this.host, () => {
        server.off('error', reject);
        // Client resets and similar socket errors are part of the tests, not failures of the sink.
        server.on('error', () => {});
        resolve();
      });
    });
    this.port = (net0.address() as net.AddressInfo).port;
  }

  /**
   * Count-only sinks that accept everything (the benchmark's) skip smtp-server: a minimal
   * responder that batches its replies per read costs a fraction of the CPU, which matters
   * when sink and sender share two cores. It speaks EHLO/HELO, PIPELINING, MAIL, RCPT, DATA,
   * RSET, NOOP and QUIT; anything else gets 502.
   */
  async #listenFast(): Promise<void> {
    const server = net.createServer((socket) => this.#fastSession(socket));
    this.#fast = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port ?? 0, this.host, () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
  }

  #fastSession(socket: net.Socket): void {
    const c = this.counters;
    c.connections++;
    c.activeConnections++;
    if (c.activeConnections > c.maxConcurrentConnections) c.maxConcurrentConnections = c.activeConnections;
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#sockets.set(key, socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.once('close', () => {
      c.activeConnections--;
      this.#sockets.delete(key);
    });
    const name = this.#opts.name ?? 'sink.fanout.test';
    let inData = false;
    let rcpts = 0;
    let partial = '';
    let tail = CRLF;
    let bytes = 0;
    socket.write(`220 ${name} ESMTP Fanout test sink\r\n`);
    socket.on('data', (chunk: Buffer) => {
      let out = '';
      let pos = 0;
      while (pos < chunk.length) {
        if (inData) {
          const end = findDataEnd(chunk, pos, tail);
          if (end < 0) {
            bytes += chunk.length - pos;
            tail = Buffer.concat([tail, chunk.subarray(Math.max(pos, chunk.length - 4))]).subarray(-4);
            break;
          }
          bytes += end - pos;
          pos = end;
          inData = false;
          c.messages++;
          c.recipients += rcpts;
          c.bytes += bytes;
          rcpts = 0;
          out += '250 2.0.0 Ok: queued\r\n';
          continue;
        }
        const nl = chunk.indexOf(0x0a, pos);
        if (nl < 0) {
          partial += chunk.toString('latin1', pos);
          if (partial.length > 4096) socket.destroy();
          break;
        }
        const line = partial + chunk.toString('latin1', pos, nl > pos && chunk[nl - 1] === 0x0d ? nl - 1 : nl);
        partial = '';
        pos = nl + 1;
        switch (line.slice(0, 4).toUpperCase()) {
          case 'EHLO': out += `250-${name}\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 104857600\r\n250 ENHANCEDSTATUSCODES\r\n`; break;
          case 'HELO': out += `250 ${name}\r\n`; break;
          case 'MAIL': rcpts = 0; out += '250 2.1.0 Ok\r\n'; break;
          case 'RCPT': rcpts++; out += '250 2.1.5 Ok\r\n'; break;
          case 'DATA':
            if (rcpts === 0) out += '503 5.5.1 Error: need RCPT command\r\n';
            else {
              inData = true;
              tail = CRLF;
              bytes = 0;
              out += '354 End data with <CR><LF>.<CR><LF>\r\n';
            }
            break;
          case 'RSET': rcpts = 0; c.rsets++; out += '250 2.0.0 Ok\r\n'; break;
          case 'NOOP': out += '250 2.0.0 Ok\r\n'; break;
          case 'QUIT':
            socket.end(`${out}221 2.0.0 Bye\r\n`);
            return;
          default: out += '502 5.5.2 Error: command not recognized\r\n';
        }
      }
      if (out) socket.write(out);
    });
  }

  #onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    this.counters.connections++;
    this.counters.activeConnections++;
    if (this.counters.activeConnections > this.counters.maxConcurrentConnections) this.counters.maxConcurrentConnections = this.counters.activeConnections;
    const g = this.#opts.greeting;
    if (g) return cb(smtpError(g.code, g.text));
    cb();
    void session;
  }

  async #onRcpt(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): Promise<void> {
    const b = this.behaviourFor(address.address);
    if (b === 'drop-rcpt') {
      this.counters.drops++;
      this.#sockets.get(`${session.remoteAddress}:${session.remotePort}`)?.destroy();
      return;
    }
    if (typeof b === 'object' && 'slowMs' in b) await delay(b.slowMs);
    const reply = replyOf(b);
    if (reply && reply.stage === 'rcpt') {
      this.counters.rejectedRecipients++;
      if (this.#opts.capture ?? true) this.replies.push({ recipient: address.address.toLowerCase(), code: reply.code, at: Date.now() });
      // smtp-server closes the session itself after sending a 421.
      return cb(smtpError(reply.code, reply.text));
    }
    cb();
  }

  #onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void {
    const rcpts = session.envelope.rcptTo.map((r) => r.address);
    const behaviours = rcpts.map((r) => this.behaviourFor(r));
    const drop = behaviours.includes('drop-data');
    let slowMs = 0;
    let dataReply: Reply | null = null;
    for (const b of behaviours) {
      if (typeof b === 'object' && 'slowMs' in b) slowMs = Math.max(slowMs, b.slowMs);
      const r = replyOf(b);
      if (r && r.stage === 'data') dataReply ??= r;
    }
    const capture = this.#opts.capture ?? true;
    const chunks: Buffer[] = [];
    let bytes = 0;
    let dropped = false;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (capture) chunks.push(chunk);
      if (drop && !dropped) {
        dropped = true;
        this.counters.drops++;
        this.#sockets.get(`${session.remoteAddress}:${session.remotePort}`)?.destroy();
      }
    });
    stream.once('end', () => {
      if (dropped) return;
      const finish = () => {
        if (stream.sizeExceeded) return cb(smtpError(552, '5.3.4 Message size exceeds fixed limit'));
        if (dataReply) {
          if (capture) for (const r of rcpts) this.replies.push({ recipient: r.toLowerCase(), code: dataReply.code, at: Date.now() });
          const err = smtpError(dataReply.code, dataReply.text);
          return cb(err);
        }
        this.counters.messages++;
        this.counters.recipients += rcpts.length;
        this.counters.bytes += bytes;
        if (capture) for (const r of rcpts) this.replies.push({ recipient: r.toLowerCase(), code: 250, at: Date.now() });
        if (capture) {
          this.messages.push({
            connectionId: session.id,
            transaction: session.transaction,
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            mailParams: mailParams(session.envelope.mailFrom ? session.envelope.mailFrom.args : false),
            recipients: rcpts,
            raw: Buffer.concat(chunks, bytes),
            secure: session.secure,
            remoteAddress: session.remoteAddress,
            heloName: session.hostNameAppearsAs,
            receivedAt: Date.now(),
          });
        }
        cb(null, `2.0.0 Ok: queued as ${session.id}.${session.transaction}`);
        if (this.#waiters.length) {
          const ready = this.#waiters.filter((w) => this.counters.messages >= w.n);
          this.#waiters = this.#waiters.filter((w) => this.counters.messages < w.n);
          for (const w of ready) w.resolve();
        }
      };
      if (slowMs > 0) setTimeout(finish, slowMs);
      else finish();
    });
  }
}
