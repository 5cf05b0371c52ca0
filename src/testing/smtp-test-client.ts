import net from 'node:net';
import tls from 'node:tls';

/**
 * A raw SMTP client for tests: writes exactly the bytes given and hands back every reply (all
 * its lines), so tests can send what no well-behaved client would (pipelined garbage, bare
 * CRs, smuggling sequences, gigabytes of DATA) and assert the server's answers.
 */
export class RawSmtp {
  #socket: net.Socket;
  #buf = '';
  #lines: string[] = [];
  readonly #replies: string[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;
  /** Reads that carried at least one complete reply line (a pipelined group answered in one write arrives in one). */
  reads: string[] = [];
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.#closed = true;
      this.#wake();
      resolve();
    }));
    this.#attach(socket);
  }

  static connect(port: number, options: { host?: string; localAddress?: string; tls?: boolean } = {}): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const host = options.host ?? '127.0.0.1';
      const socket: net.Socket = options.tls
        ? tls.connect({ port, host, rejectUnauthorized: false }, () => resolve(new RawSmtp(socket)))
        : net.connect({ port, host, localAddress: options.localAddress }, () => resolve(new RawSmtp(socket)));
      socket.once('error', reject);
    });
  }

  #attach(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.#read(d.toString('latin1')));
    socket.on('error', () => undefined);
  }

  #read(text: string): void {
    this.#buf += text;
    let complete = false;
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl).replace(/\r$/, '');
      this.#buf = this.#buf.slice(nl + 1);
      this.#lines.push(line);
      if (/^\d{3}-/.test(line)) continue;
      this.#replies.push(this.#lines.join('\n'));
      this.#lines = [];
      complete = true;
    }
    if (complete) this.reads.push(text);
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** The next reply; rejects if none comes within `timeoutMs` or the connection closes first. */
  async reply(timeoutMs = 10_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (!this.#replies.length) {
      if (this.#closed) throw new Error('connection closed without a reply');
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#replies.shift()!;
  }

  async replies(n: number, timeoutMs = 10_000): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.reply(timeoutMs));
    return out;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.#socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async command(line: string, timeoutMs?: number): Promise<string> {
    await this.write(`${line}\r\n`);
    return this.reply(timeoutMs);
  }

  /** Upgrades to TLS after the server's 220 to STARTTLS. */
  async startTls(): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#attach(secure);
  }

  /** Writes `total` bytes of DATA content in `chunk`-sized writes, waiting for the socket to drain. */
  async stream(total: number, chunk: Buffer): Promise<void> {
    let sent = 0;
    while (sent < total && !this.#closed) {
      const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
      sent += piece.length;
      if (!this.#socket.write(piece)) await new Promise((r) => this.#socket.once('drain', r));
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** AUTH PLAIN's initial response for a user name and password. */
export function plainAuth(user: string, password: string): string {
  return Buffer.from(`\u0000${user}\u0000${password}`).toString('base64');
}
