/** The AUTH exchange (RFC 4954) for PLAIN (RFC 4616) and LOGIN, one response line at a time. */
import { SmtpReply } from '../core/smtp-reply.ts';
import { parsePlain, saslResponse } from './syntax.ts';

export type SaslStep =
  | { challenge: string }
  | { method: 'PLAIN' | 'LOGIN'; username: string; password: string };

export class SaslExchange {
  readonly method: 'PLAIN' | 'LOGIN';
  #username: string | null = null;

  private constructor(method: 'PLAIN' | 'LOGIN') {
    this.method = method;
  }

  /** "AUTH mechanism [initial-response]": the exchange, and its first challenge or the credentials. */
  static start(args: string): { exchange: SaslExchange; step: SaslStep } {
    const [mechanism = '', initial, extra] = args.split(/\s+/);
    if (extra !== undefined) throw new SmtpReply(501, '5.5.4 Syntax: AUTH mechanism [initial-response]');
    const method = mechanism.toUpperCase();
    if (method !== 'PLAIN' && method !== 'LOGIN') throw new SmtpReply(504, '5.5.4 Unrecognized authentication type');
    const exchange = new SaslExchange(method);
    if (initial === undefined) return { exchange, step: { challenge: method === 'PLAIN' ? '' : 'VXNlcm5hbWU6' } };
    return { exchange, step: exchange.next(initial) };
  }

  /** The client's next response line ("*" cancels): the next challenge or the credentials. */
  next(line: string): SaslStep {
    const decoded = saslResponse(line);
    if (this.method === 'PLAIN') return { method: 'PLAIN', ...parsePlain(decoded) };
    if (this.#username === null) {
      this.#username = decoded.toString('utf8');
      return { challenge: 'UGFzc3dvcmQ6' };
    }
    return { method: 'LOGIN', username: this.#username, password: decoded.toString('utf8') };
  }
}
