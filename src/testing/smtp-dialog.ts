import net from 'node:net';

/**
 * A bare SMTP client for tests: sends exactly the commands given and returns every reply,
 * so tests can assert reply codes and enhanced status codes as a client would see them.
 */
export class SmtpDialog {
  readonly #socket: net.Socket;
  #buffer = '';
  #waiting: ((line: string) => void) | null = null;
  readonly greeting: Promise<string>;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.#buffer += d;
      this.#pump();
    });
    socket.on('error', () => undefined);
    this.greeting = this.reply();
  }

  static connect(port: number, host = '127.0.0.1'): Promise<SmtpDialog> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new SmtpDialog(socket)));
      socket.once('error', reject);
    });
  }

  #pump(): void {
    if (!this.#waiting) return;
    // A complete reply ends with a line "NNN text" (space after the code).
    const lines = this.#buffer.split('\r\n');
    for (let i = 0; i < lines.length - 1; i++) {
      if (/^\d{3}( |$)/.test(lines[i]!)) {
        const reply = lines.slice(0, i + 1).join('\n');
        this.#buffer = lines.slice(i + 1).join('\r\n');
        const w = this.#waiting;
        this.#waiting = null;
        w(reply);
        return;
      }
    }
  }

  reply(): Promise<string> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#pump();
    });
  }

  async command(line: string): Promise<string> {
    this.#socket.write(`${line}\r\n`);
    return this.reply();
  }

  /** Commands sent together in one write (RFC 2920 PIPELINING); one reply each, in order. */
  async pipeline(lines: string[]): Promise<string[]> {
    this.#socket.write(lines.map((l) => `${l}\r\n`).join(''));
    const replies: string[] = [];
    for (let i = 0; i < lines.length; i++) replies.push(await this.reply());
    return replies;
  }

  /** DATA, the message (dot-stuffed here), and the final reply; returns the 354 reply when not accepted. */
  async data(message: string | Buffer): Promise<string> {
    const go = await this.command('DATA');
    if (!go.startsWith('354')) return go;
    return this.body(message);
  }

  /** The message after a 354 (dot-stuffed here) and its final reply. */
  async body(message: string | Buffer): Promise<string> {
    const text = (Buffer.isBuffer(message) ? message.toString('latin1') : message).replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.#socket.write(Buffer.from(`${text}${text.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1'));
    return this.reply();
  }

  async authPlain(user: string, password: string): Promise<string> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}`);
  }

  close(): void {
    this.#socket.end('QUIT\r\n');
  }
}

export function sampleMessage(from: string, to: string, subject = 'Statement', body = 'Hello.\r\n'): string {
  return `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nDate: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`;
}
