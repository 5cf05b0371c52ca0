/**
 * A small SMTP server for Fanout's two listeners (submission and the bounce listener): the
 * protocol here, the decisions in the listener's handlers. It greets at once (or after an
 * early-talker check where the listener asks for one), reads DATA as a stream with strict
 * line handling (see data.ts), answers pipelined commands in one write, and offers SIZE,
 * 8BITMIME, SMTPUTF8, PIPELINING, ENHANCEDSTATUSCODES, STARTTLS, implicit TLS and AUTH
 * PLAIN/LOGIN. Why it is not smtp-server: docs/benchmarks.md ("Owning the ingest path").
 */
import net from 'node:net';
import tls from 'node:tls';
import { SmtpConnection } from './connection.ts';
import type { ConnectionHost } from './connection.ts';
import type { SmtpServerOptions, SmtpSession } from './types.ts';

export type { SmtpServerOptions, SmtpSession, SmtpHandlers, SmtpCredentials, SmtpPath, ReceivedData, DataIssues, SmtpLog } from './types.ts';

export class SmtpServer<T> implements ConnectionHost<T> {
  readonly options: SmtpServerOptions<T>;
  readonly secureContext: tls.SecureContext | null;
  readonly #connections = new Set<SmtpConnection<T>>();
  readonly #servers: net.Server[] = [];
  readonly #ehlo: string[];
  readonly #idPrefix = Date.now().toString(36);
  #closing = false;
  #seq = 0;

  constructor(options: SmtpServerOptions<T>) {
    this.options = options;
    this.secureContext = options.tls ? tls.createSecureContext({ key: options.tls.key, cert: options.tls.cert }) : null;
    const name = options.name;
    // Two EHLO replies made once: with STARTTLS (plain connections) and without (TLS in force).
    this.#ehlo = [false, true].map((secure) => {
      const lines = [name, 'PIPELINING', `SIZE ${options.maxMessageBytes}`, '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES'];
      if (this.secureContext && !secure) lines.push('STARTTLS');
      if (options.auth && options.handlers.auth) lines.push('AUTH PLAIN LOGIN');
      return lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}\r\n`).join('');
    });
  }

  get closing(): boolean {
    return this.#closing;
  }

  get connections(): number {
    return this.#connections.size;
  }

  ehloReply(session: SmtpSession<T>): string {
    return this.#ehlo[session.secure ? 1 : 0]!;
  }

  forget(connection: SmtpConnection<T>): void {
    this.#connections.delete(connection);
  }

  /** Listens on host:port (0 picks a free port), plain or implicit TLS; resolves the bound port. */
  listen(port: number, host: string, implicitTls = false): Promise<number> {
    let server: net.Server;
    if (implicitTls) {
      if (!this.options.tls) throw new Error('implicit TLS needs a certificate');
      server = tls.createServer({ key: this.options.tls.key, cert: this.options.tls.cert }, (socket) => this.#accept(socket, true));
      // A failed handshake is the client's problem; it must not reach the process.
      server.on('tlsClientError', (_err, socket) => socket.destroy());
    } else {
      server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket, false));
    }
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.options.log?.warn({ err }, 'smtp listener error'));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  #accept(socket: net.Socket, secure: boolean): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const connection = new SmtpConnection(this, socket, secure, `${this.#idPrefix}.${(++this.#seq).toString(36)}`);
    const tooMany = this.#connections.size >= (this.options.maxClients ?? 2000);
    this.#connections.add(connection);
    connection.start(tooMany);
  }

  /**
   * Stops listening; idle connections are told 421 at once, busy ones after their current
   * command; whatever is still open after `graceMs` is cut.
   */
  async close(graceMs = 3000): Promise<void> {
    this.#closing = true;
    const stopped = Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const c of this.#connections) c.shutdown();
    const timer = setTimeout(() => {
      for (const c of this.#connections) c.destroy();
    }, graceMs);
    await stopped;
    clearTimeout(timer);
  }
}
