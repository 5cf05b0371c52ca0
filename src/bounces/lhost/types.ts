/**
 * One reader per MTA family ("lhost": the host that wrote the bounce). Each knows how its MTA
 * announces itself, where it puts the diagnostic and the SMTP command, and the fixed sentences
 * it writes with the reason each one means — the knowledge a generic parser cannot have,
 * because the same words mean different things from different writers (qmail's "Unable to" is
 * its own system error; from anyone else it means nothing).
 *
 * Readers are pure functions over the parsed message; the tables are data, matched
 * case-insensitively against the text with whitespace collapsed to single spaces.
 */
import type { Reason } from '../types.ts';

/** The parts of a bounce a reader looks at to recognise its MTA and read its text. */
export interface BounceMail {
  subject: string;
  from: string;
  /** Every Received header of the bounce itself, in order. */
  received: string[];
  /** A header of the bounce itself (first value), lower-case name; '' when absent. */
  header(name: string): string;
  /** The human-readable report text (the returned original cut off), line breaks kept. */
  report: string;
}

/** What the generic extraction found for one recipient, as a reader sees it. */
export interface LhostInput {
  recipient: string;
  status: string;
  replyCode: string;
  command: string;
  /** Whitespace-collapsed diagnostic text. */
  diagnostic: string;
}

/** What a reader says about one recipient; every field optional. */
export interface LhostVerdict {
  reason?: Reason;
  command?: string;
  status?: string;
  /** A better diagnostic than the generic extraction found (the MTA's own error line). */
  diagnostic?: string;
}

/** Fixed sentences of an MTA and the reason each one means. */
export interface MessageRule {
  reason: Reason;
  phrases: readonly string[];
}

/** Sentences that name the SMTP command a failure answered. */
export interface CommandRule {
  command: 'CONN' | 'HELO' | 'MAIL' | 'RCPT' | 'DATA';
  phrases: readonly string[];
}

/** A status code (regular-expression source over `x.y.z`) the MTA uses with one meaning. */
export interface StatusRule {
  status: string;
  reason: Reason;
}

export interface Lhost {
  name: string;
  /** Whether this MTA wrote the bounce. */
  detect(mail: BounceMail): boolean;
  /** Where this MTA writes the error for `recipient` in its report, when it has its own layout. */
  diagnostic?(report: string, recipient: string): string;
  commands?: readonly CommandRule[];
  /** Its own status codes, checked before its sentences (Microsoft 365's 5.4.316 and the like). */
  statuses?: readonly StatusRule[];
  messages?: readonly MessageRule[];
  /** Family logic the tables cannot say (qmail's stages, Gmail's state numbers); runs first. */
  read?(input: LhostInput, mail: BounceMail): LhostVerdict;
}
