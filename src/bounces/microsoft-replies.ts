/**
 * Exchange Online's published reply list (the reference analyser's Microsoft table): an enhanced
 * status code, or a range of the last number under a prefix ("5.7." 606-649), with a sentence of
 * the reply, and the reason they mean together. Read only for replies from Exchange Online's own
 * hosts (*.prod.outlook.com, *.protection.outlook.com), where the same words can mean otherwise
 * than elsewhere.
 */
import type { Reason } from './types.ts';

export interface MicrosoftReply {
  status: string;
  from?: number;
  to?: number;
  phrase: string;
  reason: Reason;
}

export const MICROSOFT_REPLIES: readonly MicrosoftReply[] = [
  { status: '4.7.26', phrase: 'must pass either spf or dkim validation, this message is not signed', reason: 'authfailure' },
  { status: '4.7.323', phrase: 'tlsa-invalid: the domain failed dane validation', reason: 'authfailure' },
  { status: '5.7.323', phrase: 'tlsa-invalid: the domain failed dane validation', reason: 'authfailure' },
  { status: '4.7.324', phrase: 'dnssec-invalid: destination domain returned invalid dnssec records', reason: 'authfailure' },
  { status: '5.7.324', phrase: 'dnssec-invalid: destination domain returned invalid dnssec records', reason: 'authfailure' },
  { status: '4.7.325', phrase: 'certificate-host-mismatch: remote certificate must have a common name or subject alternative name matching the hostname (dane)', reason: 'authfailure' },
  { status: '5.7.325', phrase: 'certificate-host-mismatch: remote certificate must have a common name or subject alternative name matching the hostname (dane)', reason: 'authfailure' },
  { status: '5.7.23', phrase: 'the message was rejected because of sender policy framework violation', reason: 'authfailure' },
  { status: '5.7.322', phrase: 'certificate-expired: destination mail server\'s certificate is expired', reason: 'authfailure' },
  { status: '5.7.509', phrase: 'does not pass dmarc verification', reason: 'authfailure' },
  { status: '4.7.650', phrase: 'has been temporarily rate limited due to ip reputation', reason: 'badreputation' },
  { status: '4.4.2', phrase: 'connection dropped', reason: 'blocked' },
  { status: '4.7.', from: 850, to: 899, phrase: 'access denied, please try again later', reason: 'blocked' },
  { status: '5.7.25', phrase: 'must have a reverse dns record', reason: 'blocked' },
  { status: '5.7.506', phrase: 'access denied, bad helo', reason: 'blocked' },
  { status: '5.7.507', phrase: 'access denied, rejected by recipient', reason: 'blocked' },
  { status: '5.7.510', phrase: 'does not accept email over ipv6', reason: 'blocked' },
  { status: '5.7.511', phrase: 'access denied, banned sender', reason: 'blocked' },
  { status: '5.7.513', phrase: 'using customer block list', reason: 'blocked' },
  { status: '5.7.', from: 606, to: 649, phrase: 'access denied, banned sending ip ', reason: 'blocked' },
  { status: '4.7.', from: 500, to: 699, phrase: 'access denied, please try again later', reason: 'blocked' },
  { status: '5.5.4', phrase: 'invalid domain name', reason: 'blocked' },
  { status: '5.7.51', phrase: 'restrictdomainstoipaddresses or restrictdomainstocertificate', reason: 'blocked' },
  { status: '5.7.1', phrase: 'part of their network is on our block list (s3150)', reason: 'blocked' },
  { status: '5.3.0', phrase: 'too many related errors', reason: 'contenterror' },
  { status: '5.6.11', phrase: 'invalid characters', reason: 'contenterror' },
  { status: '5.4.11', phrase: 'agent generated message depth exceeded', reason: 'contenterror' },
  { status: '5.5.6', phrase: 'invalid message content', reason: 'contenterror' },
  { status: '5.2.3', phrase: 'resolver.rst.recipsizelimit; message too large for this recipient', reason: 'exceedlimit' },
  { status: '4.4.1', phrase: 'connection timed out', reason: 'expired' },
  { status: '4.4.7', phrase: 'message delayed', reason: 'expired' },
  { status: '4.4.7', phrase: 'queue expired; message expired', reason: 'expired' },
  { status: '4.4.7', phrase: 'message expired', reason: 'expired' },
  { status: '5.4.300', phrase: 'message expired', reason: 'expired' },
  { status: '5.2.2', phrase: 'mailbox full', reason: 'mailboxfull' },
  { status: '5.3.4', phrase: 'message size exceeds fixed maximum message size', reason: 'mesgtoobig' },
  { status: '5.3.4', phrase: 'message too big for system', reason: 'mesgtoobig' },
  { status: '5.4.4', phrase: 'smtpsend.dns.nonexistentdomain; nonexistent domain', reason: 'networkerror' },
  { status: '5.4.6', phrase: 'hop count exceeded - possible mail loop', reason: 'networkerror' },
  { status: '4.4.316', phrase: 'connection refused', reason: 'networkerror' },
  { status: '5.4.4', phrase: 'invalid arguments', reason: 'networkerror' },
  { status: '5.4.6', phrase: 'routing loop detected', reason: 'networkerror' },
  { status: '5.4.14', phrase: 'routing loop detected', reason: 'networkerror' },
  { status: '5.7.1', phrase: 'unable to relay', reason: 'norelaying' },
  { status: '5.7.1', phrase: 'client was not authenticated', reason: 'norelaying' },
  { status: '5.4.1', phrase: 'relay access denied', reason: 'norelaying' },
  { status: '5.7.1', phrase: 'unable to relay', reason: 'norelaying' },
  { status: '5.7.64', phrase: 'tenantattribution; relay access denied', reason: 'norelaying' },
  { status: '5.4.310', phrase: 'does not exist', reason: 'norelaying' },
  { status: '4.3.2', phrase: 'system not accepting network messages', reason: 'notaccept' },
  { status: '4.4.4', phrase: 'hosted tenant which has no mail-enabled subscriptions', reason: 'notaccept' },
  { status: '5.3.2', phrase: 'storedrv.deliver: missing or bad storedriver mdb properties', reason: 'notaccept' },
  { status: '5.0.350', phrase: 'x-dg-ref header is too long', reason: 'policyviolation' },
  { status: '5.0.350', phrase: 'requested action not taken: policy violation detected (as345)', reason: 'policyviolation' },
  { status: '5.7.', from: 900, to: 999, phrase: 'delivery not authorized, message refused', reason: 'policyviolation' },
  { status: '5.1.7', phrase: 'invalid address', reason: 'rejected' },
  { status: '5.1.7', phrase: 'unknown sender address', reason: 'rejected' },
  { status: '5.1.0', phrase: 'sender denied', reason: 'rejected' },
  { status: '5.1.8', phrase: 'access denied, bad outbound sender', reason: 'rejected' },
  { status: '5.7.1', phrase: 'delivery not authorized', reason: 'rejected' },
  { status: '5.7.12', phrase: 'sender was not authenticated by organization', reason: 'rejected' },
  { status: '5.7.124', phrase: 'sender not in allowed-senders list', reason: 'rejected' },
  { status: '5.7.133', phrase: 'sender not authenticated for group', reason: 'rejected' },
  { status: '5.7.134', phrase: 'sender was not authenticated for mailbox', reason: 'rejected' },
  { status: '5.7.13', phrase: 'sender was not authenticated for public folder', reason: 'rejected' },
  { status: '5.7.135', phrase: 'sender was not authenticated for public folder', reason: 'rejected' },
  { status: '5.7.136', phrase: 'sender was not authenticated', reason: 'rejected' },
  { status: '5.7.', from: 501, to: 503, phrase: 'access denied, spam abuse detected', reason: 'rejected' },
  { status: '5.7.512', phrase: 'access denied, message must be rfc 5322 section 3.6.2 compliant', reason: 'rejected' },
  { status: '5.7.750', phrase: 'service unavailable. client blocked from sending from unregistered domains', reason: 'rejected' },
  { status: '5.7.', from: 501, to: 503, phrase: 'access denied, banned sender', reason: 'rejected' },
  { status: '5.7.3', phrase: 'cannot achieve exchange server authentication', reason: 'securityerror' },
  { status: '5.7.3', phrase: 'not authorized', reason: 'securityerror' },
  { status: '4.4.317', phrase: 'starttls is required to send mail', reason: 'securityerror' },
  { status: '5.4.317', phrase: 'starttls is required to send mail', reason: 'securityerror' },
  { status: '4.7.321', phrase: 'starttls-not-supported: destination mail server must support tls to receive mail', reason: 'securityerror' },
  { status: '5.7.321', phrase: 'starttls-not-supported: destination mail server must support tls to receive mail', reason: 'securityerror' },
  { status: '5.7.1', phrase: 'client was not authenticated', reason: 'securityerror' },
  { status: '5.7.57', phrase: 'client was not authenticated to send anonymous mail during mail from', reason: 'securityerror' },
  { status: '5.2.1', phrase: 'content filter agent quarantined this message', reason: 'spamdetected' },
  { status: '4.3.2', phrase: 'storedrv.deliver; recipient thread limit exceeded', reason: 'speeding' },
  { status: '5.1.90', phrase: 'your message can\'t be sent because you\'ve reached your daily limit for message recipients', reason: 'speeding' },
  { status: '5.2.2', phrase: 'submission quota exceeded', reason: 'speeding' },
  { status: '5.2.121', phrase: 'recipient\'s per hour message receive limit from specific sender exceeded', reason: 'speeding' },
  { status: '5.2.122', phrase: 'recipient\'s per hour message receive limit exceeded', reason: 'speeding' },
  { status: '5.7.508', phrase: 'has exceeded permitted limits within', reason: 'speeding' },
  { status: '5.7.', from: 700, to: 749, phrase: 'access denied, tenant has exceeded threshold', reason: 'speeding' },
  { status: '5.7.', from: 700, to: 749, phrase: 'access denied, traffic not accepted from this ip', reason: 'speeding' },
  { status: '5.7.504', phrase: 'recipient address rejected: access denied', reason: 'suspend' },
  { status: '5.7.505', phrase: 'access denied, banned recipient', reason: 'suspend' },
  { status: '5.2.1', phrase: 'mailbox cannot be accessed', reason: 'suspend' },
  { status: '5.3.3', phrase: 'unrecognized command', reason: 'syntaxerror' },
  { status: '5.5.2', phrase: 'send hello first', reason: 'syntaxerror' },
  { status: '4.3.2', phrase: 'service not available', reason: 'systemerror' },
  { status: '4.3.2', phrase: 'service not active', reason: 'systemerror' },
  { status: '5.3.5', phrase: 'system incorrectly configured', reason: 'systemerror' },
  { status: '5.3.190', phrase: 'journaling on-premises messages to microsoft 365 or office 365 not supported when journaling archive is disabled', reason: 'systemerror' },
  { status: '5.0.0', phrase: 'helo / ehlo requires domain address', reason: 'systemerror' },
  { status: '5.1.4', phrase: 'destination mailbox address ambiguous', reason: 'systemerror' },
  { status: '5.2.4', phrase: 'mailing list expansion problem', reason: 'systemerror' },
  { status: '5.2.14', phrase: 'misconfigured forwarding address', reason: 'systemerror' },
  { status: '4.4.3', phrase: 'temporary server error. please try again later attr18', reason: 'systemerror' },
  { status: '4.7.0', phrase: 'temporary server error. please try again later. prx4 nexthop:', reason: 'systemerror' },
  { status: '4.4.24', phrase: 'message failed to be replicated: insufficient system resource:', reason: 'systemerror' },
  { status: '4.4.25', phrase: 'message failed to be replicated: no healthy secondary server available to accept replica at this time.', reason: 'systemerror' },
  { status: '4.4.28', phrase: 'message failed to be replicated: the operation was canceled', reason: 'systemerror' },
  { status: '4.4.318', phrase: '(suspiciousremoteservererror)', reason: 'systemerror' },
  { status: '5.4.318', phrase: '(suspiciousremoteservererror)', reason: 'systemerror' },
  { status: '4.7.500', phrase: 'server busy. please try again later from ', reason: 'systemerror' },
  { status: '4.7.700', phrase: 'pfa agent busy, please try again.', reason: 'systemerror' },
  { status: '4.3.1', phrase: 'insufficient system resources', reason: 'systemfull' },
  { status: '5.5.3', phrase: 'too many recipients', reason: 'toomanyconn' },
  { status: '4.5.3', phrase: 'too many recipients', reason: 'toomanyconn' },
  { status: '5.2.122', phrase: 'the recipient has exceeded their limit for', reason: 'toomanyconn' },
  { status: '5.1.1', phrase: 'resolver.adr.exrecipnotfound; not found', reason: 'userunknown' },
  { status: '5.1.1', phrase: 'user unknown', reason: 'userunknown' },
  { status: '5.1.3', phrase: 'storedrv.submit; invalid recipient address', reason: 'userunknown' },
  { status: '5.1.', from: 4, to: 5, phrase: 'recipient address reserved by rfc 2606', reason: 'userunknown' },
  { status: '5.1.6', phrase: 'recipient addresses in single label domains not accepted', reason: 'userunknown' },
  { status: '5.1.1', phrase: 'bad destination mailbox address', reason: 'userunknown' },
  { status: '5.1.10', phrase: 'recipient not found', reason: 'userunknown' },
  { status: '5.4.1', phrase: 'recipient address rejected: access denied', reason: 'userunknown' },
  { status: '5.5.0', phrase: 'requested action not taken: mailbox unavailable', reason: 'userunknown' },
  { status: '5.1.2', phrase: 'invalid x.400 address', reason: 'userunknown' },
];

export const MICROSOFT_HOSTS = /\.prod\.outlook\.com\b|\.protection\.outlook\.com\b/i;

/** The reason Exchange Online's list gives for `status` with `diagnostic` (lower-cased), or undefined. */
export function microsoftReply(status: string, diagnostic: string): Reason | undefined {
  const last = Number(status.slice(status.lastIndexOf('.') + 1));
  for (const r of MICROSOFT_REPLIES) {
    if (r.from === undefined ? status !== r.status : !status.startsWith(r.status) || last < r.from || last > (r.to ?? r.from)) continue;
    if (diagnostic.includes(r.phrase)) return r.reason;
  }
  return undefined;
}
