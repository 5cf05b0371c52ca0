/** The checks on MAIL and RCPT arguments and on received data that hold for every listener. */
import { SmtpReply } from '../core/smtp-reply.ts';
import type { ReceivedData } from './data.ts';
import { isAscii, mailboxProblem, parsePathCommand } from './syntax.ts';
import type { SmtpPath } from './syntax.ts';

export interface MailCommand {
  path: SmtpPath;
  body: '7BIT' | '8BITMIME';
  smtputf8: boolean;
}

/** MAIL FROM's path and parameters: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), AUTH (RFC 4954). */
export function readMail(args: string, esmtp: boolean, maxBytes: number): MailCommand {
  const path = parsePathCommand(args, 'FROM');
  let body: MailCommand['body'] = '7BIT';
  let smtputf8 = false;
  if (path.params.size && !esmtp) throw new SmtpReply(555, '5.5.4 MAIL parameters need EHLO');
  for (const [key, value] of path.params) {
    if (key === 'SIZE') {
      if (!/^\d{1,15}$/.test(value)) throw new SmtpReply(501, '5.5.4 SIZE must be a number of octets');
      if (Number(value) > maxBytes) throw new SmtpReply(552, `5.3.4 Message size exceeds the limit of ${maxBytes} bytes`);
    } else if (key === 'BODY') {
      const v = value.toUpperCase();
      if (v !== '7BIT' && v !== '8BITMIME') throw new SmtpReply(555, '5.5.4 BODY must be 7BIT or 8BITMIME (BINARYMIME is not offered)');
      body = v;
    } else if (key === 'SMTPUTF8') {
      if (value) throw new SmtpReply(501, '5.5.4 SMTPUTF8 takes no value');
      smtputf8 = true;
    } else if (key !== 'AUTH') {
      // AUTH= (RFC 4954 5) names the original submitter; it is accepted and not used.
      throw new SmtpReply(555, `5.5.4 MAIL parameter ${key} is not supported`);
    }
  }
  if (path.address) {
    const problem = mailboxProblem(path.address);
    if (problem) throw new SmtpReply(553, `5.1.7 Bad sender address syntax: ${problem}`);
    if (!smtputf8 && !isAscii(path.address)) throw new SmtpReply(553, '5.6.7 A non-ASCII address needs the SMTPUTF8 parameter');
  }
  return { path, body, smtputf8 };
}

/** RCPT TO's path ("postmaster" alone is allowed, RFC 5321 4.5.1); no parameters are offered. */
export function readRcpt(args: string, smtputf8: boolean): SmtpPath {
  const path = parsePathCommand(args, 'TO');
  const first = path.params.keys().next();
  if (!first.done) throw new SmtpReply(555, `5.5.4 RCPT parameter ${first.value} is not supported`);
  if (!/^postmaster$/i.test(path.address)) {
    const problem = mailboxProblem(path.address);
    if (problem) throw new SmtpReply(501, `5.1.3 Bad recipient address syntax: ${problem}`);
    if (!smtputf8 && !isAscii(path.address)) throw new SmtpReply(553, '5.6.7 A non-ASCII address needs SMTPUTF8 at MAIL');
  }
  return path;
}

/** Data the protocol itself refuses, whatever the listener: too large, smuggling, bare CR. */
export function protocolRefusal(data: ReceivedData, maxBytes: number): SmtpReply | null {
  if (data.oversized) return new SmtpReply(552, `5.3.4 Message exceeds the size limit of ${maxBytes} bytes`);
  if (data.issues.loneDot) return new SmtpReply(554, '5.5.2 Message refused: a line holding only "." next to a bare LF (SMTP smuggling); end the data with <CR><LF>.<CR><LF>');
  if (data.issues.bareCrLine) return new SmtpReply(554, `5.6.0 Message refused: line ${data.issues.bareCrLine} holds a bare CR (lines end with CRLF, RFC 5321 2.3.8)`);
  return null;
}
