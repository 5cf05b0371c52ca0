// The benchmark's own SMTP client for the AUTH + PIPELINING pattern: sessions kept open, each
// authenticating with AUTH PLAIN and sending MAIL, RCPT and DATA in one write (RFC 2920).
import net from 'node:net';

class Session {
  readonly #socket: net.Socket;
  #buf = '';
  #waiters: ((reply: string) => void)[] = [];

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.#buf += d;
      for (;;) {
        const m = /^(\d{3}) [^\r\n]*\r\n/m.exec(this.#buf);
        if (!m) break;
        const reply = this.#buf.slice(0, m.index + m[0].length);
        this.#buf = this.#buf.slice(m.index + m[0].length);
        this.#waiters.shift()?.(reply);
      }
    });
  }

  static open(port: number): Promise<Session> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Session(s)));
      s.once('error', reject);
    });
  }

  replies(n: number): Promise<string[]> {
    return Promise.all(Array.from({ length: n }, () => new Promise<string>((r) => this.#waiters.push(r))));
  }

  send(text: string, replies: number): Promise<string[]> {
    const p = this.replies(replies);
    this.#socket.write(text);
    return p;
  }

  end(): void {
    this.#socket.end('QUIT\r\n');
  }
}

/** A ~2 KB statement, like smtp-source's -l 2048 payload plus headers. */
export function benchMessage(i: number, from: string, to: string): string {
  const head = `From: Statements <${from}>\r\nTo: <${to}>\r\nSubject: Your statement ${i}\r\nDate: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  const line = 'Dear client, your monthly statement is ready in online banking.\r\n';
  return head + line.repeat(Math.ceil((2048 - head.length) / line.length));
}

/** Submits `total` messages over `sessions` kept-open sessions; resolves the count answered 250. */
export async function submitPipelined(port: number, user: string, pass: string, from: string, total: number, sessions: number): Promise<{ ok: number; refused: string[] }> {
  let next = 0;
  let ok = 0;
  const refused: string[] = [];
  const run = async () => {
    const s = await Session.open(port);
    await s.replies(1);
    await s.send('EHLO bench.client\r\n', 1);
    const auth = await s.send(`AUTH PLAIN ${Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64')}\r\n`, 1);
    if (!auth[0]!.startsWith('2')) throw new Error(`AUTH failed: ${auth[0]}`);
    while (next < total) {
      const i = next++;
      const to = `client${i}@dest.bench.test`;
      const r = await s.send(`MAIL FROM:<${from}>\r\nRCPT TO:<${to}>\r\nDATA\r\n`, 3);
      if (!r[2]!.startsWith('354')) {
        refused.push(r.join(' | ').trim());
        continue;
      }
      const [done] = await s.send(`${benchMessage(i, from, to)}.\r\n`, 1);
      if (done!.startsWith('250')) ok++;
      else refused.push(done!.trim());
    }
    s.end();
  };
  await Promise.all(Array.from({ length: sessions }, run));
  return { ok, refused };
}
