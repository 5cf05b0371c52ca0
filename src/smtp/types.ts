import type { ReceivedData } from './data.ts';
import type { SmtpPath } from './syntax.ts';

export type { ReceivedData, DataIssues } from './data.ts';
export type { SmtpPath } from './syntax.ts';

/** One client connection, as the listener's handlers see it. */
export interface SmtpSession<T> {
  readonly id: string;
  /** The client's address (IPv4 without the ::ffff: prefix). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** TLS in force (implicit TLS, or after STARTTLS). */
  secure: boolean;
  /** The name given in HELO/EHLO ("" before it). */
  helo: string;
  esmtp: boolean;
  /** The authenticated identity (what `auth` returned), or null. */
  user: string | null;
  /** The open transaction: MAIL's path and the recipients accepted so far. */
  mailFrom: SmtpPath | null;
  rcptTo: SmtpPath[];
  /** BODY= at MAIL (RFC 6152). */
  body: '7BIT' | '8BITMIME';
  /** SMTPUTF8 at MAIL (RFC 6531). */
  smtputf8: boolean;
  /** Messages accepted on this connection. */
  transactions: number;
  /** The listener's own state for this connection. */
  state: T;
}

export interface SmtpCredentials {
  method: 'PLAIN' | 'LOGIN';
  username: string;
  password: string;
}

/**
 * What a listener decides. Each may return a promise; a thrown SmtpReply is sent as it is
 * (a 421 also closes the connection); anything else thrown becomes 451 4.3.0 and is logged.
 */
export interface SmtpHandlers<T> {
  /** The listener's state for a new connection. */
  state(): T;
  /** Before the greeting; throw to refuse the connection. */
  connect?(session: SmtpSession<T>): void | Promise<void>;
  /** Checks credentials; returns the identity for session.user. Only asked when `auth` is on. */
  auth?(session: SmtpSession<T>, credentials: SmtpCredentials): Promise<string>;
  mailFrom(session: SmtpSession<T>, path: SmtpPath): void | Promise<void>;
  rcptTo(session: SmtpSession<T>, path: SmtpPath): void | Promise<void>;
  /** The message, complete and within the size limit; returns the text of the 250 reply. */
  data(session: SmtpSession<T>, data: ReceivedData): Promise<string>;
  /** The open transaction was dropped (RSET, HELO/EHLO, STARTTLS, or after DATA). */
  reset?(session: SmtpSession<T>): void;
  close?(session: SmtpSession<T>): void;
}

export interface SmtpLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SmtpServerOptions<T> {
  /** Host name in the greeting and the EHLO reply. */
  name: string;
  /** Text after "220 <name> ESMTP" in the greeting. */
  banner?: string;
  /** Largest message taken (SIZE); larger ones are read to their end and refused with 552. */
  maxMessageBytes: number;
  /**
   * Wait this long before the greeting and refuse a client that talks first (an early-talker
   * check against spam software on an internet-facing port); 0 greets at once.
   */
  greetingDelayMs?: number;
  /** Certificate for STARTTLS and implicit TLS; without it STARTTLS is not offered. */
  tls?: { key: string; cert: string } | null;
  /** Offer AUTH PLAIN LOGIN (handlers.auth decides). */
  auth?: boolean;
  /** Concurrent connections; more are answered 421 (default 2000). */
  maxClients?: number;
  /** Recipients in one transaction (default 1000; RFC 5321 asks for at least 100). */
  maxRecipients?: number;
  /** Closes a connection silent for this long with 421 (default 5 minutes, RFC 5321 4.5.3.2). */
  idleTimeoutMs?: number;
  /** Syntax errors and unknown commands tolerated before 421 (default 10). */
  maxErrors?: number;
  handlers: SmtpHandlers<T>;
  log?: SmtpLog;
  /** Told of every connection and every refusal (4xx/5xx reply) for the listener's metrics. */
  observe?: { session(): void; refusal(code: number): void };
}
