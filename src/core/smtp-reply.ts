/**
 * An SMTP refusal carried as an error, the way smtp-server expects it: the code, and text
 * beginning with the enhanced status (RFC 3463). Shared by the submission server and the
 * bounce listener, each of which maps its own failures to these in one function.
 */
export class SmtpReply extends Error {
  readonly responseCode: number;
  constructor(code: number, text: string) {
    super(text);
    this.name = 'SmtpReply';
    this.responseCode = code;
  }
}
