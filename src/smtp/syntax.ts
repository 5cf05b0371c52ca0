/**
 * Syntax of the SMTP commands the listeners take: MAIL and RCPT paths with their parameters
 * (RFC 5321 4.1.2, RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8) and SASL responses.
 * Everything here is pure: a parse either gives a value or a reply to send.
 */
import { SmtpReply } from '../core/smtp-reply.ts';

export interface SmtpPath {
  /** The address as given ("" for the null path <>). */
  address: string;
  /** ESMTP parameters, keys upper-case; a parameter without a value maps to "". */
  params: Map<string, string>;
}

const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const MAX_PATH = 256;

// RFC 5321 4.1.2 with RFC 6531's UTF-8 (U+0080 and up) in atoms and labels.
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\uFFFF]";
const DOT_ATOM = new RegExp(`^${ATEXT}+(?:\\.${ATEXT}+)*$`);
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\uffff]|\\[\x20-\x7e])*"$/;
const LABEL = /^(?:[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]{0,61}[A-Za-z0-9\u0080-\uffff])?)$/;
const ADDRESS_LITERAL = /^\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]+)\]$/;

function validDomain(domain: string): boolean {
  if (!domain || domain.length > MAX_DOMAIN) return false;
  if (ADDRESS_LITERAL.test(domain)) return true;
  const labels = domain.replace(/\.$/, '').split('.');
  return labels.every((l) => LABEL.test(l));
}

/** Why `address` is not a mailbox (RFC 5321 4.1.2), or null when it is one. */
export function mailboxProblem(address: string): string | null {
  if (address.length > MAX_PATH) return `the address is longer than ${MAX_PATH} octets`;
  const at = address.lastIndexOf('@');
  if (at < 1 || at === address.length - 1) return 'the address must be local@domain';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (Buffer.byteLength(local) > MAX_LOCAL) return `the local part is longer than ${MAX_LOCAL} octets`;
  if (!DOT_ATOM.test(local) && !QUOTED.test(local)) return 'the local part is not a dot-atom or a quoted string';
  if (!validDomain(domain)) return 'the domain is not a host name or an address literal';
  return null;
}

export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * "FROM:<path> params" (MAIL) or "TO:<path> params" (RCPT). `keyword` is FROM or TO. A missing
 * pair of angle brackets is tolerated for a bare address without spaces (common in old clients).
 */
export function parsePathCommand(args: string, keyword: 'FROM' | 'TO'): SmtpPath {
  const m = /^([A-Za-z]+)\s*:\s*(.*)$/.exec(args);
  if (!m || m[1]!.toUpperCase() !== keyword) throw new SmtpReply(501, `5.5.4 Syntax: ${keyword === 'FROM' ? 'MAIL FROM:<address>' : 'RCPT TO:<address>'}`);
  const rest = m[2]!;
  let address: string;
  let tail: string;
  if (rest.startsWith('<')) {
    const close = rest.indexOf('>');
    if (close < 0) throw new SmtpReply(501, '5.5.4 Syntax: the path is missing its closing ">"');
    address = rest.slice(1, close);
    tail = rest.slice(close + 1);
    if (tail && !/^\s/.test(tail)) throw new SmtpReply(501, '5.5.4 Syntax: a space must separate the path from its parameters');
    // A source route (RFC 5321 4.1.2 "@a,@b:user@c") is accepted and ignored, as RFC 5321 C asks.
    const route = /^@[^:]+:(.*)$/.exec(address);
    if (route) address = route[1]!;
  } else {
    const space = rest.search(/\s/);
    address = space < 0 ? rest : rest.slice(0, space);
    tail = space < 0 ? '' : rest.slice(space);
  }
  if (/[\s<>]/.test(address) && !/^".*"@/.test(address)) throw new SmtpReply(501, '5.1.3 Syntax: the address holds spaces or angle brackets');
  const params = new Map<string, string>();
  for (const p of tail.trim().split(/\s+/).filter(Boolean)) {
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) throw new SmtpReply(501, '5.5.4 Syntax: malformed parameter');
    if (params.has(key)) throw new SmtpReply(501, `5.5.4 Parameter ${key} given twice`);
    params.set(key, eq < 0 ? '' : p.slice(eq + 1));
  }
  return { address, params };
}

/** Decodes a SASL response line (base64); "*" cancels the exchange (RFC 4954 4). */
export function saslResponse(line: string): Buffer {
  if (line === '*') throw new SmtpReply(501, '5.7.0 Authentication cancelled');
  if (line === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(line) || line.length % 4 !== 0) throw new SmtpReply(501, '5.5.2 Cannot decode the response (base64 expected)');
  return Buffer.from(line, 'base64');
}

/** PLAIN (RFC 4616): [authzid] NUL authcid NUL password. */
export function parsePlain(decoded: Buffer): { username: string; password: string } {
  const parts = decoded.toString('utf8').split('\u0000');
  if (parts.length !== 3 || !parts[1]) throw new SmtpReply(501, '5.5.2 Malformed PLAIN response (authzid NUL user NUL password expected)');
  return { username: parts[1], password: parts[2]! };
}
