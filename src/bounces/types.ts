/** The bounce vocabulary (Sisimai's reasons), shared by the classifier and everything that stores its answers. */
export const REASONS = [
  'authfailure', 'badreputation', 'blocked', 'contenterror', 'delivered', 'exceedlimit', 'expired',
  'feedback', 'filtered', 'hasmoved', 'hostunknown', 'mailboxfull', 'mailererror', 'mesgtoobig',
  'networkerror', 'norelaying', 'notaccept', 'notcompliantrfc', 'onhold', 'policyviolation', 'rejected',
  'requireptr', 'securityerror', 'spamdetected', 'speeding', 'suspend', 'syntaxerror', 'systemerror', 'systemfull',
  'toomanyconn', 'undefined', 'userunknown', 'vacation', 'virusdetected',
] as const;

export type Reason = (typeof REASONS)[number];

export function isReason(value: string): value is Reason {
  return (REASONS as readonly string[]).includes(value);
}

/** What an extractor found out about one recipient before the reason is decided. */
export interface Finding {
  recipient: string;
  /** Enhanced status code (RFC 3463) as reported, or '' when none. */
  status: string;
  /** The DSN Status field as written, comment included ("5.2.1 (mailbox disabled)"), when there is one. */
  statusText?: string;
  /** SMTP reply code as reported, or ''. */
  replyCode: string;
  /** DSN Action (failed, delayed, delivered, ...) lower-cased, or ''. */
  action: string;
  /** The diagnostic text the remote or local MTA gave for this recipient. */
  diagnostic: string;
  /** Human-readable text around the recipient in the report, used when the diagnostic says nothing. */
  context: string;
  /** Remote host that answered, when the report names it. */
  remoteHost: string;
  /** The MTA that wrote the report (DSN Reporting-MTA), when known. */
  reportingHost?: string;
  /** SMTP command the failure answered (RCPT, MAIL, DATA, HELO, CONN), or ''. */
  command: string;
  /** True when `diagnostic` is a DSN Diagnostic-Code field: the answer of the server that refused. */
  diagnosticReported?: boolean;
  /** DSN Diagnostic-Code type (smtp, x-unix, ...), lower-cased, or ''. */
  diagnosticType: string;
  /** The filtering gateway that wrote the report, when its signature is known (see GATEWAY_SIGNATURES). */
  agent?: string;
  /** The MTA family that wrote the report, when a reader in lhost/ recognised it. */
  lhost?: string;
  /** The reason that MTA's own sentences or codes give (lhost/), before the general procedure. */
  lhostReason?: Reason;
  /** Set by extractors whose format alone decides the reason (ARF → feedback, RFC 3834 → vacation). */
  preset?: Reason;
}

export interface ClassifiedRecipient {
  recipient: string;
  status: string;
  replyCode: string;
  reason: Reason;
  hardBounce: boolean;
  action: string;
  diagnostic: string;
  remoteHost: string;
}

export type MessageKind = 'bounce' | 'complaint' | 'autoreply' | 'delivery' | 'unrecognised';

export interface BounceReport {
  kind: MessageKind;
  recipients: ClassifiedRecipient[];
  /** Headers of the original message when the bounce returned them (for linking to what was sent). */
  original: {
    messageId: string | null;
    from: string | null;
    to: string[];
    subject: string | null;
    /** Every header of the returned original, lower-cased names (X-Fanout-* ids live here). */
    headers: Map<string, string[]>;
  } | null;
  /** True when the MIME structure had to be guessed (missing boundaries and the like). */
  damaged: boolean;
  /**
   * What made the report unreadable where it claims a structure (a delivery-status recipient
   * that is no address, a recipient block without Action, Status or Diagnostic-Code). Such a
   * report classifies nobody: a forged or broken DSN never names a recipient by accident.
   */
  malformed: string[];
}
