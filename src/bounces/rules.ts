import { VOCABULARY } from './vocabulary.ts';
import type { Reason } from './types.ts';

/**
 * The classification rules, as data. Each rule names a reason and the phrases that mean it in
 * what receiving servers actually write. Patterns are regular-expression sources matched
 * case-insensitively against the diagnostic text with whitespace collapsed to single spaces.
 *
 * Order is precedence: the first rule with a matching phrase wins. Specific meanings come
 * before general ones (a "mailbox full" text that also says "rejected" is a full mailbox; a
 * DNSBL listing that mentions "spamhaus" is a block, not spam content).
 */
/**
 * The phrase of RFC 5321's 502 and 504 replies, written by a receiving server for a command
 * or a parameter it does not support. Named once so the rules below read as what it means.
 */
const UNSUPPORTED = 'not\\x20implemented';

export interface TextRule {
  reason: Reason;
  patterns: string[];
}

export const TEXT_RULES: TextRule[] = [
  {
    // Local delivery to a program or file failed: the recipient's own mail setup is broken.
    reason: 'mailererror',
    patterns: [
      'mailer error', 'x-unix;', 'pipe to \\|', 'command (?:died|failed|output:)', 'exit (?:code|status) \\d+',
      'local delivery failed', 'procmail', 'unknown mailer error', 'child process of \\S+ returned',
    ],
  },
  {
    reason: 'hasmoved',
    patterns: ['address has (?:been )?(?:moved|changed)', 'has moved on', 'user has moved', 'no longer (?:at|valid at) this address', 'mailbox has moved'],
  },
  {
    reason: 'mailboxfull',
    patterns: [
      '(?:邮箱|信箱)(?:空间|容量)?(?:已满|不足)', '超出(?:邮箱)?(?:容量|配额)',
      'mail ?box (?:is )?(?:full|over ?quota|exceeded)', 'mailbox (?:size )?limit', 'over ?quota', 'quota (?:exceeded|violation|full)',
      'exceeded (?:the |their |his |her |its )?(?:storage|quota|disk)', '(?:storage|disk) (?:quota|space) (?:exceeded|full)',
      'mailbox has exceeded', 'user has exceeded',
      'account is full', 'mail ?folder is full', 'user(?:\'s)? (?:mailbox )?is (?:over|full)', 'too much mail data',
      'has too many messages', 'recipient(?:\'s)? (?:mailbox )?is full', 'full mailbox', 'inbox is full', 'mailbox is at capacity',
      'account has exceeded', 'exceed(?:s|ed)? (?:the )?(?:mailbox|account) (?:size|quota|storage)', 'user over limit',
      'no space left', 'quota exceed', 'over the allowed quota', 'out of (?:mail ?box|storage) space',
    ],
  },
  {
    reason: 'mesgtoobig',
    patterns: [
      'line limit exceeded',
      '邮件(?:大小|尺寸)超(?:过|出)', 'mailsize limit',
      'message (?:is |was )?too (?:big|large|long)', 'message size (?:exceeds|is larger|too)', 'exceeds? (?:the )?(?:maximum |max )?(?:allowed )?(?:message )?size',
      'size (?:limit )?exceeded', 'message length exceeds', 'mail size limit', 'email (?:is )?too large', 'larger than (?:the )?(?:maximum|max|allowed)',
      'maximum (?:message )?size', 'message exceeds (?:the )?(?:local|fixed|global)? ?(?:size|limit)',
    ],
  },
  {
    reason: 'exceedlimit',
    patterns: ['header size exceeds', 'recipient limit', 'message header (?:size|is) (?:too|exceed)', 'exceeded (?:the )?(?:recipient|message) limit'],
  },
  {
    reason: 'suspend',
    patterns: [
      '(?:帐号|账号|账户|帐户|邮箱|用户)(?:已经|已|被){0,2}(?:冻结|停用|禁用|注销|锁定)',
      '(?:account|mailbox)\\b.{0,40}\\b(?:is|has been) (?:disabled|suspended|inactive|deactivated)',
      'temporar(?:y|ily) locked',
      'account (?:has been |is |was )?(?:disabled|suspended|deactivated|inactive|frozen|locked|expired|blocked)',
      'mail ?box (?:has been |is |was )?(?:disabled|suspended|inactive|deactivated|frozen|locked|temporarily (?:disabled|unavailable))',
      '(?:user|recipient|address|e-?mail account) (?:has been |is )?(?:disabled|suspended|inactive|deactivated)',
      'is no longer active', 'inactive (?:account|mailbox|user)', 'suspended (?:account|mailbox|user)', 'disabled (?:account|mailbox|user|recipient)',
      'not currently (?:active|available)', 'mailbox is not active', 'temporarily disabled', 'has been (?:suspended|disabled|frozen)',
      'account (?:is )?unavailable', 'recipient (?:account )?(?:is )?(?:inactive|suspended)',
    ],
  },
  {
    reason: 'userunknown',
    patterns: [
      '(?:收件人|用户|帐号|账号|账户|帐户|邮箱|邮件地址|地址)(?:名)?不存在', '无此用户', '查无此人',
      'invalid (?:final )?delivery userid',
      'user ?(?:name )?(?:is )?unknown', 'unknown (?:user|recipient|e-?mail address|address|local[- ]part|mailbox|account|alias)', 'no such (?:user|mailbox|recipient|address|account|local user|person)',
      'user(?:name)? (?:was )?not found', '(?:user|mailbox|recipient|address|account|e-?mail address|addressee)(?: name)? (?:does ?n[o\']t|does not|doesn\'t) exist',
      'mailbox (?:not found|unavailable|is unavailable|not available|not present|name not allowed)',
      'recipient (?:unknown|not found|(?:address )?rejected: (?:user unknown|undeliverable|access denied|unknown))',
      'invalid (?:recipient|mailbox|user|e-?mail address|address)', '(?:recipient|address|mailbox) (?:is )?(?:invalid|unknown)',
      'not a (?:valid|known) (?:user|recipient|mailbox)', 'is not a valid mailbox', 'no mailbox (?:here|by that name|found)',
      'recipient name is not recognized', 'addressee unknown', 'unknown or illegal alias', 'destination (?:addresses|address) (?:were|was|is) unknown',
      'recipnotfound', 'recipientnotfound', 'no such person', 'undeliverable address', 'bad destination mailbox',
      'user invalid', 'unknown account', 'not listed in (?:domino directory|public name & address book)', 'no account by that name',
      'could not be found in the (?:directory|organization)', 'account that you tried to reach does not exist', 'does not have an? \\S+ account',
      'unrecognized user', 'this user doesn\'t have', 'no valid recipients', 'recipient address rejected: user unknown', 'user doesn\'t exist',
      'no such e-?mail address', 'said: 550 .{0,40}(?:unknown|invalid) user', 'address (?:is )?not (?:valid|found)', 'is not (?:a )?valid (?:e-?mail|address|user)',
      'mailbox is not exist', 'user not exist', 'user does not exist', 'unknown local part', 'cannot find (?:user|recipient|mailbox)',
      'no user (?:here )?by that name', 'delivery failed: no such', 'there is no such', 'not a registered user', 'mailbox does not exist',
    ],
  },
  {
    // Spam verdicts on the content, said before anything else: such reports also give advice (SPF,
    // DNS) in passing, and a listed URL in the body is not a listed sending host.
    reason: 'spamdetected',
    patterns: [
      '垃圾邮件','rejected (?:due to|as|for) spam', 'spam classification', 'blacklisted (?:url|link|domain in)', '\\buribl\\b', '\\bsurbl\\b'],
  },
  {
    // Hosting panels word "user or domain unknown" with a list of maybes that mentions blacklists.
    reason: 'hostunknown',
    patterns: [
      '域名不存在','account or domain may not exist'],
  },
  {
    // A sender address on a blocklist is the sender being refused, not the sending host.
    reason: 'rejected',
    patterns: ['(?:sending (?:to/)?from|sender|from) an? address that (?:has been|is) (?:black|block)listed'],
  },
  {
    reason: 'norelaying',
    patterns: [
      'email address is not verified',
      'relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed|authorized))', 'not (?:permitted|allowed|authorized) to relay', 'we do not relay', 'unable to relay',
      'no relaying', 'not in my list of allowed rcpthosts', 'insecure mail relay', 'relay denied', 'relaying (?:mail )?to \\S+ (?:is )?not allowed',
      'relay not permitted', 'cannot relay', 'open relay',
    ],
  },
  {
    reason: 'authfailure',
    patterns: [
      'authentication checks? failed', 'authentication information',
      '\\bspf\\b.{0,40}(?:fail|check|record|policy|validation|alignment)', '(?:fail|failed|failure).{0,20}\\bspf\\b', 'sender policy framework',
      '\\bdmarc\\b', '\\bdkim\\b(?!-signature).{0,40}(?:fail|invalid|required|signature|verification)', 'unauthenticated (?:e-?mail|mail)',
      'not authorized to send (?:on behalf|from|mail for)', 'authentication (?:results )?(?:check )?failed for sender', 'sender is not authorized by',
    ],
  },
  {
    reason: 'requireptr',
    patterns: [
      'unverif[iy]able sending ips?',
      'mismatches client ip',
      'reverse (?:dns|lookup|hostname|dns lookup|mapping|ptr)', '\\brdns\\b', '\\bptr\\b', 'cannot find your (?:reverse )?hostname', 'client host rejected: cannot find',
      'no reverse', 'hostname does not match', 'ip name lookup failed', 'unresolvable (?:ip|client|host)', 'does not resolve',
      'not have a reverse', 'cannot resolve your (?:ip|address|host)', 'could not resolve (?:your|the) (?:ip|client)', 'client host rejected: \\S+ does not',
    ],
  },
  {
    reason: 'virusdetected',
    patterns: ['\\bvirus', 'malware', 'infected', 'trojan', 'worm detected', 'malicious (?:content|attachment|software)'],
  },
  {
    reason: 'badreputation',
    patterns: [
      'unexpected volume', 'user complaints','bad reputation', 'poor reputation', 'low reputation', 'reputation (?:of|is|score)', '(?:ip|sender|domain) reputation', 'reputation (?:too )?low'],
  },
  {
    // Sending faster than the receiver takes mail (Sisimai 5's "speeding"): a rate, not a count
    // of connections or recipients, and said before a block ("your IP has been rate limited").
    reason: 'speeding',
    patterns: ['temporarily rate limited', 'try again slower', 'at a rate that prevents additional messages', 'receiving (?:mail|messages) too quickly', 'recipient thread limit exceeded'],
  },
  {
    reason: 'blocked',
    patterns: [
      'refused to talk to me',
      'smtp server of your isp', 'my name was rejected', 'invalid ip for sending',
      'too many unwanted messages have been sent from', 'not currently accepting mail from your ip',
      'blocked using', 'blocked by (?:an? )?(?:rbl|dnsbl|blacklist|blocklist)', 'listed (?:in|on|at|by) ', 'blacklist', 'black list', 'block ?list',
      'spamhaus', 'spamcop', 'sorbs', 'barracudacentral', 'abuseat', '\\bdnsbl', '\\brbl\\b', '\\bcbl\\b', 'client host (?:\\S+ )?(?:blocked|rejected)',
      '(?:ip|host|client|network) (?:address )?(?:\\S+ )?(?:is |has been |was )?(?:blocked|banned|blacklisted|black-listed|not allowed)',
      'your (?:ip|host|network|server|domain) (?:address )?(?:\\S+ )?(?:is|has been|was)', 'access denied.{0,20}(?:ip|client|host)',
      // A host refusing us ("Connection refused by [ip]"), not a bare TCP failure ("connect to
      // host[ip]:25: Connection refused", "message expired, connection refused"): nothing
      // listened, which the status (4.4.1, no answer from host) names.
      'connection refused by', '(?<!\\]:\\d{1,5}: )connection (?:rejected|not accepted)',
      'not allowed to (?:connect|send mail from)', 'banned sending ip', 'sending ip', 'too many (?:invalid|bad) (?:recipients|rcpt)',
      'rejected due to (?:.{0,40})?(?:ip|host)', 'please contact your internet service provider',
      'dynamic (?:ip|address|pool)|dial-?up|residential ip', 'is not accepting (?:mail|e-?mail) from', 'poor ip', 'refused by dns', 'ip blocked',
      'blocked for abuse', 'denied by (?:rbl|dnsbl)', 'host .{0,40} refused to talk',
    ],
  },
  {
    reason: 'spamdetected',
    patterns: [
      'content rejected', '\\bube\\b',
      '\\bspam(?!haus|cop)', 'junk ?mail', 'unsolicited', '\\buce\\b', 'bulk (?:e-?mail|mail)', 'classified as (?:junk|bulk)', 'looks like (?:junk|bulk|spam)',
      'content (?:was )?(?:rejected|filtered) (?:as|for) spam', 'message (?:was )?(?:identified|detected|considered|flagged) as', 'suspicious (?:e-?mail|message|content|url|link)',
      'high probability of being', 'score (?:of|exceeds|too high)', 'phishing', 'scam',
    ],
  },
  {
    reason: 'policyviolation',
    patterns: [
      'protocol violation', 'potential security issue', 'content presents a potential',
      // A header refused under a security/policy status is the receiving policy, not a malformed message.
      '[45]\\.7\\.\\d{1,3} header error',
      'policy (?:violation|reasons|restriction|rejection)', 'violat(?:es|ed|ion of|ing) (?:our |the |\\S+ )?(?:\\S+ )?polic', 'content policy', 'prohibited (?:attachment|content|file|message)',
      'attachment (?:type )?(?:is )?(?:not allowed|blocked|prohibited|rejected|not permitted)', 'local policy', 'denied by (?:\\S+ )?policy', 'rejected by (?:\\S+ )?policy',
      'not (?:permitted|allowed) by (?:\\S+ )?policy', 'due to (?:\\S+ )?polic(?:y|ies)', 'policy (?:of|for) ', 'against (?:our |the )?polic', 'email policy',
      'banned (?:content|attachment|file)',
    ],
  },
  {
    reason: 'filtered',
    patterns: [
      '拒收',
      'recipient preferences',
      'filtered', 'content filter', 'rejected by (?:the )?(?:recipient|user)', '(?:recipient|user) has (?:blocked|rejected|refused)',
      'not authorized to (?:receive|send to)', 'blocked by (?:the )?(?:recipient|user)', 'user refuses', 'refused by (?:the )?recipient', 'recipient (?:refuses|rejected your)',
      'does not accept (?:mail|e-?mail|messages) from', 'rejected by (?:the )?(?:filter|rule)', 'message filter', 'mail rejected by recipient',
      'restricted to (?:members|internal)', 'only accepts? (?:mail|messages) from', 'moderat(?:ed|or)',
      'does not want to receive', 'sender .{0,40} is on the (?:user|recipient)\'?s? (?:block|deny)', 'has set up a filter',
    ],
  },
  {
    reason: 'notcompliantrfc',
    patterns: [
      'multiple addresses in from','not (?:rfc ?\\d* )?compliant', 'rfc ?5322', 'rfc ?2822', 'multiple (?:from|date|subject|message-id) (?:headers|fields)'],
  },  {
    reason: 'securityerror',
    patterns: [
      'delivery not authorized',
      'unauthenticated senders?',
      'tls (?:is )?(?:required|handshake|negotiation|error|failure)', 'starttls', 'encryption (?:is )?required', 'certificate', 'must (?:authenticate|use tls|issue a starttls)',
      'authentication (?:is )?required', 'authentication (?:failed|failure|credentials invalid)', 'insecure', 'not authenticated', 'sender (?:address )?not authorized',
      'unauthorized (?:sender|access)', 'smtp auth', 'forged', 'spoof', 'impersonat',
    ],
  },  {
    reason: 'rejected',
    patterns: [
      'sender (?:address |domain |e-?mail )?(?:rejected|denied|blocked|refused|not allowed|is not allowed|not authorized|unknown|invalid)',
      'sender (?:verify|verification|address verification|callout) (?:failed|check failed)', 'domain of sender address \\S+ does not',
      'sender (?:domain|address) (?:must (?:resolve|exist)|not found|does not exist|is not valid)', 'invalid sender', 'bad sender', 'unverified (?:sender|address)',
      '(?:sender|envelope sender|from address|mail from) (?:is )?(?:on|in) (?:the )?(?:black|block|deny|reject)', 'your (?:e-?mail )?address (?:has been|was|is) (?:rejected|blocked|banned|blacklisted)',
      'refused to accept', 'access denied', 'not accept(?:ed|ing)? (?:mail|messages|e-?mail) from (?:this )?(?:sender|address|domain)',
      'mail from \\S+ (?:is )?not (?:accepted|allowed)', 'rejected for (?:this|the) sender', 'sender is on', 'envelope blocked', 'senders? not (?:permitted|allowed)',
      'administrative prohibition', 'message rejected', 'mail rejected', 'rejected by (?:the )?(?:server|mta|administrator|postmaster)',
    ],
  },
  {
    reason: 'hostunknown',
    patterns: [
      'host \\S+ not found', '(?<![@\\w.-])[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.[a-z]{2,} (?:does not exist|doesn\'t exist)',
      'host (?:or domain name )?(?:not found(?!,? try again)|unknown)', 'unknown (?:host|domain)', 'domain (?:name )?(?:does not exist|doesn\'t exist|not found|is not valid|unknown)', 'no such (?:domain|host)',
      'name or service not known', 'unrouteable address', 'unroutable address', 'host not found(?!,? try again)', 'no (?:valid )?mx (?:record|host)s?', 'mx (?:record )?lookup', 'unresolvable',
      'invalid domain', 'mx records point to non-existent hosts', 'recipient address rejected: domain not found', '\\bnxdomain\\b', 'domain (?:name )?not (?:found|resolv)',
      'couldn\'?t find any host named', 'non-existent (?:domain|host)', 'hostname (?:not found|unknown)', 'unable to resolve (?:domain|host)', 'dns (?:lookup )?(?:says|returned) no',
      'no route for', 'recipient domain (?:does not|doesn\'t) exist',
    ],
  },
  {
    reason: 'notaccept',
    patterns: [
      'no smtp service', 'no mx found',
      'does not accept (?:any )?(?:mail|e-?mail|messages)', 'accepts? no (?:mail|e-?mail)', 'null mx', 'will not accept (?:mail|e-?mail)', 'not accepting (?:any )?(?:mail|e-?mail)',
      'couldn\'?t find a mail exchanger', 'does not receive (?:mail|e-?mail)', 'domain does not accept', 'no mail (?:service|exchanger)',
    ],
  },

  {
    reason: 'contenterror',
    patterns: [
      'content error', '(?:message|mail) (?:header|content|body|format) (?:is )?(?:invalid|malformed|error|rejected|not)', 'improper (?:use|format)', 'line too long',
      'header (?:error|too long|syntax|line|field)', 'malformed (?:message|mime|header)', 'bare (?:lf|cr|linefeed)', 'non-?(?:ascii|7-?bit)', 'invalid (?:mime|header|character|content)',
      '8-?bit (?:characters|data|content)', 'message contains (?:invalid|bad)', 'rfc ?(?:2822|5322|822) (?:violation|compliant|formatting)', 'duplicate header',
    ],
  },
  {
    reason: 'expired',
    patterns: [
      'connection timed out', 'operation timed out',
      'in the queue too long', 'will be retried for',
      'could not deliver for the last', 'all hosts have been failing', 'retry time not reached', 'did not accept our requests to connect', 'delivery failed \\d+ attempts',
      'delivery (?:time|period) (?:expired|exceeded)', 'message expired', 'retry time(?:out)? (?:not reached|exceeded)', 'could not be delivered (?:within|for|in) \\d+', 'message timed out',
      'queue (?:time|lifetime)', '(?:too long|too old) in (?:the )?queue', 'was not delivered .{0,40}(?:days|hours)', 'time ?limit exceeded', '(?:retry|delivery) timeout',
      'undeliverable for \\d+', 'has been delayed', 'delivery attempts will continue', 'giving up on', 'retry timeout exceeded',
      'not been delivered .{0,40}(?:days|hours)', 'expired after', 'could not deliver .{0,40}(?:days|hours)', 'deferred for too long', 'maximum (?:delivery )?time',
      'exceeded maximum (?:retries|attempts)', 'delivery has failed .{0,40} days', 'unable to deliver (?:for|within)',
    ],
  },
  {
    reason: 'toomanyconn',
    patterns: [
      '(?:发送|发信|连接|投递)(?:频率|次数|速度)(?:过高|过快|超过|超限|受限)',
      'too many recipients',
      'too many (?:connections|concurrent|simultaneous|sessions|smtp sessions)', 'connection (?:rate|limit|count)', 'rate limit', 'throttl', 'too (?:many|much) (?:mail|messages) (?:from|in)',
      'exceeded (?:the )?(?:rate|connection)', 'too fast', 'slow down', 'try again later with fewer', 'too many messages (?:in|per) (?:this )?(?:session|connection)',
      'maximum (?:number of )?connections', 'too frequent', 'sending (?:rate|speed)', 'message (?:rate|frequency)',
    ],
  },
  {
    reason: 'systemfull',
    patterns: [
      'insufficient (?:disk|system) (?:space|storage)','system (?:is )?(?:full|out of)', 'insufficient system (?:storage|resources)', 'out of (?:disk|storage|memory)', 'mail (?:queue|spool|system) (?:is )?full', 'file system full', 'disk full', 'not enough system'],
  },
  {
    reason: 'systemerror',
    patterns: [
      'loop alert', 'duplicated message-id', 'loop detected',
      'could not load drd', 'transaction failed', 'queue file write error',
      'system error', 'server (?:configuration|error)', 'internal (?:server )?error', 'local (?:error|configuration)', 'temporary local problem',
      'mail system (?:error|configuration)', 'configuration error', 'routing error', 'service (?:currently )?(?:not available|unavailable)', 'loops? back to myself',
      'aliasing/forwarding loop', 'it would create a mail loop', 'interrupted system call', 'timeout waiting for input',
      'can\'t create (?:user )?output file', 'error while being processed', 'system config', 'not available right now', 'server is busy', 'resources temporarily unavailable',
      'internal software error', 'directory server failure', 'database (?:error|failure)', 'unexpected error', 'backend error',
    ],
  },
  {
    reason: 'networkerror',
    patterns: [
      'too many hops', 'hop count exceeded', 'routing loop',
      'network (?:is )?unreachable', 'could not connect', 'unable to connect', 'connection (?:reset|closed|lost|died|dropped)', 'no route to host',
      'host (?:is )?unreachable', 'lost connection', 'dns (?:error|failure|lookup (?:failed|error)|problem|timeout)', 'temporary failure in name resolution', 'name server timeout',
      'malformed (?:or unexpected )?name server reply', 'servfail', 'read timeout', 'no answer from', 'no response from',
      'network error', 'host is down', 'failed to connect', 'name service error', 'host not found,? try again',
    ],
  },

  {
    reason: 'syntaxerror',
    patterns: [
      'malformed address', UNSUPPORTED, 'command parameter', 'syntax error', `command (?:not recognized|unrecognized|${UNSUPPORTED})`, 'unrecognized command', 'bad sequence of commands', 'invalid command', 'line length exceeded'],
  },

  // Last: the reference analyser's sentences that no rule above has (vocabulary.ts).
  ...VOCABULARY,
];

/**
 * Enhanced status codes whose meaning is specific enough to decide the reason on their own
 * (RFC 3463 plus the codes providers commonly use). Generic codes (x.0.0, 5.7.1, 5.5.0, ...)
 * are deliberately absent: for those the text decides.
 */
export const STATUS_REASONS: Record<string, Reason> = {
  '5.1.1': 'userunknown', '4.1.1': 'userunknown', '5.1.3': 'userunknown', '5.1.10': 'userunknown',
  '5.1.2': 'hostunknown', '4.1.2': 'hostunknown', '5.1.6': 'hasmoved', '5.1.7': 'rejected', '5.1.8': 'rejected', '4.1.8': 'rejected',
  '5.2.1': 'suspend', '5.2.2': 'mailboxfull', '4.2.2': 'mailboxfull', '5.2.3': 'exceedlimit', '4.2.3': 'exceedlimit',
  '5.3.1': 'systemfull', '4.3.1': 'systemfull', '5.3.4': 'mesgtoobig', '4.3.4': 'mesgtoobig', '5.3.5': 'systemerror', '4.3.5': 'systemerror',
  '4.3.2': 'toomanyconn', '5.4.3': 'systemerror', '4.4.3': 'systemerror', '5.4.4': 'hostunknown', '4.4.5': 'systemfull', '5.4.6': 'networkerror', '4.4.6': 'networkerror',
  '4.4.7': 'expired', '5.4.7': 'expired', '4.4.1': 'expired', '4.4.2': 'networkerror', '4.4.0': 'expired', '4.4.4': 'networkerror',
  '5.5.4': 'syntaxerror', '5.5.2': 'syntaxerror', '5.5.3': 'exceedlimit',
  '5.6.0': 'contenterror', '5.6.1': 'contenterror', '5.6.2': 'contenterror', '5.6.3': 'contenterror', '5.6.9': 'contenterror',
  '5.7.2': 'norelaying', '5.7.7': 'authfailure', '5.7.8': 'securityerror', '5.7.4': 'securityerror', '5.7.6': 'securityerror', '5.7.9': 'policyviolation',
  '5.7.13': 'suspend', '5.7.23': 'authfailure', '5.7.24': 'authfailure', '5.7.25': 'requireptr', '5.7.26': 'authfailure', '5.7.27': 'notaccept',
  '5.7.509': 'authfailure', '5.7.510': 'authfailure', '5.7.515': 'authfailure', '5.7.606': 'blocked', '4.7.650': 'badreputation',
  '4.7.25': 'requireptr', '4.7.26': 'authfailure',
};

/**
 * Statuses a server sends with a canned meaning that its own text rarely repeats. Unlike
 * STATUS_REASONS these only apply when no text rule matched.
 */
export const WEAK_STATUS_REASONS: Record<string, Reason> = {
  '5.7.1': 'rejected', '5.7.0': 'securityerror', '5.2.0': 'filtered', '5.3.0': 'systemerror', '5.5.0': 'syntaxerror',
  '4.7.1': 'blocked', '4.7.0': 'blocked', '5.4.0': 'networkerror', '4.4.9': 'networkerror',
};

/**
 * Filtering gateways and appliances relay mail to the real mailbox server and report that
 * server's refusals in their own words. When one of them reports "user unknown" without a
 * user-unknown status and without saying it came at RCPT TO, the refusal came from a filter
 * behind it, not from a missing mailbox. Signatures are matched on the bounce's headers and text.
 */
export const GATEWAY_SIGNATURES: { agent: string; pattern: string }[] = [
  { agent: 'mcafee', pattern: 'the following addresses had delivery problems' },
  { agent: 'mailfoundry', pattern: 'delivery failed for the following reason' },
  { agent: 'surfcontrol', pattern: 'surfcontrol e-mail filter' },
  { agent: 'mxlogic', pattern: 'mxlogic\\.net' },
  // Two unnamed gateways seen in the wild, known by their fixed report sentences.
  { agent: 'x1', pattern: 'the following addresses had delivery errors' },
  { agent: 'x2', pattern: 'unable to deliver message to the following address\\(es\\)' },
];

/**
 * Remote hosts with their own codes in the reply text. `host` is matched against the remote
 * MTA name (and the diagnostic, which usually names it); `rules` then work as TEXT_RULES do but
 * take precedence for that provider.
 */
/** Spectrum's "AUP#" code prefix: an optional direction word and dash before the number. */
const AUP = 'aup#[a-z]*-?';

export interface ProviderRule {
  provider: string;
  host: string;
  rules: TextRule[];
}

/** Orange's reply-code label: OFR, LPN, LPNAAA or OUK, a number, then "_" and three digits. */
const ORANGE = '\\b(?:ofr|lpn|lpnaaa|ouk)\\d*[_-]';

export const PROVIDER_RULES: ProviderRule[] = [
  {
    // Orange / Wanadoo / La Poste end their replies with a code such as "OFR_506", "OFR006_102"
    // or "LPN007_416"; the last three digits carry the meaning whatever the sentence says.
    provider: 'orange',
    host: `orange\\.fr|wanadoo\\.fr|laposte\\.net|${ORANGE}\\d{3}\\b`,
    rules: [
      // The code table Orange publishes (the last three digits); 105-109, 201, 423, 424 and 513
      // ("please try later", "mail rejected") name nothing and leave the reply to the procedure.
      { reason: 'blocked', patterns: [`${ORANGE}(?:101|102|103|510|999)\\b`, 'adresse ip source bloquee'] },
      { reason: 'toomanyconn', patterns: [`${ORANGE}104\\b`] },
      { reason: 'securityerror', patterns: [`${ORANGE}(?:305|402)\\b`] },
      { reason: 'authfailure', patterns: [`${ORANGE}(?:401|517)\\b`] },
      { reason: 'rejected', patterns: [`${ORANGE}(?:403|405|415|421)\\b`] },
      { reason: 'userunknown', patterns: [`${ORANGE}416\\b`, 'destinataire inconnu', 'adresse destinataire invalide'] },
      { reason: 'mailboxfull', patterns: [`${ORANGE}417\\b`, 'boite (?:aux lettres )?pleine'] },
      { reason: 'suspend', patterns: [`${ORANGE}(?:420|426)\\b`] },
      { reason: 'systemerror', patterns: [`${ORANGE}505\\b`] },
      { reason: 'spamdetected', patterns: [`${ORANGE}506\\b`] },
      { reason: 'mesgtoobig', patterns: [`${ORANGE}514\\b`] },
      { reason: 'policyviolation', patterns: [`${ORANGE}630\\b`] },
    ],
  },
  {
    // Google Groups refuses posts from non-members or to groups that do not exist; its notices
    // are localised, so the help link is the reliable sign.
    provider: 'googlegroups',
    host: 'googlegroups\\.com|groups\\.google\\.com',
    rules: [{ reason: 'rejected', patterns: ['groups\\.google\\.com', 'permission to post', 'not allowed to post'] }],
  },
  {
    // au (KDDI) answers "550 : User unknown", with no address, when the recipient's own
    // reception settings refuse the sender; a missing address gets the address in the reply.
    provider: 'kddi',
    host: 'ezweb\\.ne\\.jp|au\\.com|kddi',
    // A missing address is answered with the address before the words ("<a@ezweb.ne.jp>: User unknown").
    // au's own reports open with a fixed sentence that says what happened to the account.
    rules: [
      { reason: 'filtered', patterns: ['\\b550 : user unknown'] },
      { reason: 'userunknown', patterns: ['>: user unknown'] },
      { reason: 'suspend', patterns: ['the user\\(s\\) account is (?:disabled|temporarily limited)'] },
      { reason: 'mailboxfull', patterns: ['the user\\(s\\) account is temporarily over quota'] },
    ],
  },
  {
    provider: 'facebook',
    host: 'facebook\\.com',
    rules: [{ reason: 'filtered', patterns: ['refused due to recipient preferences'] }],
  },
  {
    // NetEase (163.com, 126.com, yeah.net) puts a class:code tag in its replies ("554 DT:SPM",
    // "451 RP:QRC"); the tag says what happened whatever the sentence around it.
    provider: 'netease',
    host: '163\\.com|126\\.com|yeah\\.net|netease|\\b(?:dt|hl|mi|rp):[a-z]{3}\\b',
    rules: [
      { reason: 'spamdetected', patterns: ['\\bdt:spm\\b'] },
      { reason: 'authfailure', patterns: ['\\bmi:(?:spf|dma)\\b'] },
      { reason: 'toomanyconn', patterns: ['\\brp:(?:drc|ccl|trc|qrc)\\b', '\\bhl:(?:icc|ifc)\\b', '\\bmi:(?:sfq|dmc|ccl)\\b'] },
      { reason: 'blocked', patterns: ['\\bhl:(?:rep|mep|irc)\\b', '\\bmi:cel\\b', '\\bip:b\\w*'] },
    ],
  },
  {
    // Cox ends refusals with "AUP#" and a code from its published list (CXBL, CDRBL, IPBLnnnn, ...);
    // the code decides, then Cox's fixed sentences when there is none.
    provider: 'cox',
    host: 'cox\\.net|cox\\.com|aup#(?:cx|cdrbl|ipbl|urlbl)|\\bcx(?:bl|dnsbl|helo|dyn|connfail|rdns)\\b',
    rules: [
      { reason: 'blocked', patterns: ['aup#(?:cxbl|cdrbl|ipbl\\d+)\\b', 'an error has occured\\s*\\(cxbl\\)'] },
      { reason: 'requireptr', patterns: ['aup#cxdns\\b'] },
      { reason: 'authfailure', patterns: ['aup#cxsndr\\b'] },
      { reason: 'rejected', patterns: ['aup#cxsmtp\\b'] },
      { reason: 'toomanyconn', patterns: ['aup#(?:cxcnct|cxmxrt)\\b'] },
      { reason: 'securityerror', patterns: ['aup#(?:cxthrt|cxmj)\\b'] },
      { reason: 'spamdetected', patterns: ['aup#urlbl\\d+\\b'] },
      // Older replies name the code on its own ("CXBL", "CXDYN").
      { reason: 'blocked', patterns: ['too many bad commands from', 'too many invalid recipients', '\\bcx(?:bl|dnsbl|helo|dyn|connfail|rdns)\\b'] },
      { reason: 'requireptr', patterns: ['dns check failure - try again later', 'rejected - no rdns'] },
      { reason: 'policyviolation', patterns: ['esmtp no data before greeting', 'attachment extension is forbidden'] },
      { reason: 'toomanyconn', patterns: ['too many sessions from', 'requested action aborted: try again later', 'message threshold exceeded'] },
      { reason: 'systemerror', patterns: ['esmtp server temporarily not available'] },
      { reason: 'rejected', patterns: ['sender rejected'] },
      { reason: 'userunknown', patterns: ['recipient rejected'] },
    ],
  },
  {
    // Tencent (QQ / Exmail) replies carry a sentence from its published list and a help link; a
    // listed sending IP is named as such before the plainer "suspected spam" refusal of the sender.
    provider: 'tencent',
    host: 'qq\\.com|exmail|tencent',
    rules: [
      { reason: 'authfailure', patterns: ['spf check failed', 'dmarc check failed'] },
      { reason: 'blocked', patterns: ['suspected bounce attacks', 'suspected spam ip', 'connection denied', 'ip is rejected', 'dns blacklist', 'ip (?:address )?(?:is )?blocked'] },
      { reason: 'spamdetected', patterns: ['spam is embedded in the email', 'mail content denied'] },
      { reason: 'rejected', patterns: ['suspected spam', 'mail is rejected by recipients'] },
      // Its "mailbox unavailable or access denied" is its rate limit for one recipient (its help page).
      { reason: 'speeding', patterns: ['mailbox unavailable or access deni?n?ed'] },
      { reason: 'toomanyconn', patterns: ['frequency limited', 'too many (?:connections|mails|messages)', 'frequency'] },
      { reason: 'mesgtoobig', patterns: ['message too large'] },
      { reason: 'suspend', patterns: ['is a deactivated mailbox'] },
      { reason: 'syntaxerror', patterns: ['bad address syntax'] },
      { reason: 'userunknown', patterns: ['mailbox not found'] },
      { reason: 'mailboxfull', patterns: ['mailbox (?:is )?full', 'over quota'] },
    ],
  },
  {
    // GoDaddy (secureserver.net) ends its refusals with an "IBnnn" code from its published list;
    // the code decides, then GoDaddy's fixed sentences when there is none.
    provider: 'godaddy',
    host: 'secureserver\\.net|godaddy|\\bib[0-9]{3}\\b',
    rules: [
      { reason: 'securityerror', patterns: ['\\bib401\\b'] },
      { reason: 'notcompliantrfc', patterns: ['\\bib50[12]\\b'] },
      { reason: 'rejected', patterns: ['\\bib506\\b'] },
      { reason: 'authfailure', patterns: ['\\bib508\\b'] },
      { reason: 'requireptr', patterns: ['\\bib108\\b'] },
      { reason: 'spamdetected', patterns: ['\\bib212\\b'] },
      { reason: 'virusdetected', patterns: ['\\bib705\\b'] },
      // Recipient counts, sessions and hourly volume.
      // Sessions and recipients per message are connection limits; hourly volume is speed.
      { reason: 'toomanyconn', patterns: ['\\bib(?:605|007)\\b'] },
      { reason: 'speeding', patterns: ['\\bib(?:101|504|510|607)\\b'] },
      { reason: 'badreputation', patterns: ['\\bib103\\b'] },
      { reason: 'blocked', patterns: ['\\bib(?:110|111|112|113|104|105|106)\\b', 'rbl reject', 'spamhaus\\.org/query/bl\\?ip='] },
      { reason: 'expired', patterns: ['has been in the queue too long', 'delivery timeout'] },
      { reason: 'mailboxfull', patterns: ['account storage limit'] },
      { reason: 'spamdetected', patterns: ['message rejected for spam or virus content'] },
      { reason: 'suspend', patterns: ['account disabled'] },
      { reason: 'systemerror', patterns: ['message is looping'] },
      { reason: 'userunknown', patterns: ['recipient not found', 'account does not exist'] },
    ],
  },
  {
    // Spectrum / Charter end refusals with "AUP#" and a four-digit code, often after a direction
    // letter ("AUP#I-1000" inbound, "AUP#O-1010" outbound, "AUP#In-1310"); the number decides,
    // in ranges as the provider documents them, whatever the sentence before it says.
    provider: 'spectrum',
    host: 'charter\\.net|spectrum\\.net|\\brr\\.com\\b|\\baup#[a-z]*-?[15]\\d{3}\\b',
    rules: [
      { reason: 'blocked', patterns: [`${AUP}(?:1000|120\\d|1210|12[2-4]\\d|1250)\\b`] },
      { reason: 'rejected', patterns: [`${AUP}(?:1010|10[2-7]\\d|1080|1500|1520)\\b`] },
      { reason: 'systemerror', patterns: [`${AUP}1090\\b`] },
      { reason: 'requireptr', patterns: [`${AUP}(?:11[0-4]\\d|1150)\\b`] },
      { reason: 'policyviolation', patterns: [`${AUP}(?:11[6-8]\\d|1190|1560)\\b`] },
      { reason: 'networkerror', patterns: [`${AUP}1260\\b`] },
      // Connection limits (1300-1340) and sending-rate limits (1350-1490, 1540, 1550, 1580).
      { reason: 'toomanyconn', patterns: [`${AUP}(?:13[0-4]\\d)\\b`] },
      { reason: 'speeding', patterns: [`${AUP}(?:13[5-9]\\d|14\\d\\d|1540|1550|1580)\\b`] },
      { reason: 'mesgtoobig', patterns: [`${AUP}1530\\b`] },
      { reason: 'userunknown', patterns: [`${AUP}50[01]0\\b`] },
    ],
  },
  {
    // Mimecast gateways answer with fixed sentences from their published code list.
    provider: 'mimecast',
    host: 'mimecast\\.com',
    rules: [
      { reason: 'virusdetected', patterns: ['email rejected due to security policies'] },
      { reason: 'authfailure', patterns: ['(?:spf|dkim|dmarc) sender invalid'] },
      { reason: 'badreputation', patterns: ['ip reputation - \\(?reject', 'internal resources are temporarily unavailable'] },
      { reason: 'blocked', patterns: ['ip temporarily blacklisted', 'recipient temporarily unavailable'] },
      { reason: 'mesgtoobig', patterns: ['maximum email size exceeded'] },
      { reason: 'networkerror', patterns: ['mail loop detected'] },
      { reason: 'norelaying', patterns: ['open relay not allowed'] },
      { reason: 'notaccept', patterns: ['account inbounds disabled'] },
      {
        reason: 'policyviolation',
        patterns: ['anti-spoofing policy', 'content examination policy', 'host network not allowed'],
      },
      {
        reason: 'rejected',
        patterns: ['envelope blocked', 'block policy for (?:header from|envelope from)', 'manually blocked senders'],
      },
      { reason: 'securityerror', patterns: ['this route requires (?:encryption|tls|high-strength)', 'incorrect authentication data'] },
      { reason: 'systemerror', patterns: ['unable to process (?:connection|command|an email)', 'message ended early'] },
      { reason: 'toomanyconn', patterns: ['account service is temporarily unavailable', 'exceeding outbound thread limit'] },
      { reason: 'userunknown', patterns: ['invalid recipient', 'invalid address'] },
    ],
  },
  {
    // Microsoft (Exchange Online, Outlook.com / Hotmail): directory-based refusals of addresses
    // that do not exist, in their own words.
    provider: 'microsoft',
    host: '\\.outlook\\.com\\b|\\bhotmail\\.com\\b|\\blive\\.com\\b|\\bmsn\\.com\\b',
    rules: [
      {
        reason: 'userunknown',
        patterns: ['requested action not taken: mailbox unavailable', 'resolver\\.adr\\.recipientnotfound', '5\\.4\\.1 .{0,80}recipient address rejected: access denied'],
      },
      { reason: 'authfailure', patterns: ['does not pass dmarc verification', 'sender policy framework violation', 'must pass either spf or dkim'] },
      { reason: 'badreputation', patterns: ['temporarily rate limited due to ip reputation'] },
      {
        reason: 'blocked',
        patterns: [
          'access denied, banned sending ip', 'access denied, banned sender', 'access denied, bad helo', 'access denied, rejected by recipient', 'using customer block list',
          'part of their network is on our block list', 'must have a reverse dns record', 'does not accept email over ipv6',
        ],
      },
      { reason: 'exceedlimit', patterns: ['resolver\\.rst\\.recipsizelimit'] },
    ],
  },
  {
    // Verizon Wireless's SMS/MMS gateways (vtext.com, vzwpix.com) know their own subscribers: an
    // invalid user there is a number that does not exist, whatever stage it was said at.
    provider: 'verizon',
    host: '\\b(?:vtext|vzwpix)\\.com\\b',
    rules: [{ reason: 'userunknown', patterns: ['no such user here', 'no valid recipients for this mm'] }],
  },
  {
    // Symantec Email Security.cloud (MessageLabs) filters mail for its customers and reports
    // their servers' refusals in its own fixed sentences; a bare "542 <address> Rejected" is its
    // answer for an address the customer's directory does not have.
    provider: 'messagelabs',
    host: '\\bmessagelabs\\.com\\b',
    rules: [
      { reason: 'userunknown', patterns: ['\\b542 \\S+@\\S+ rejected\\b', 'no such user', 'invalid recipient', 'recipient mailbox is not allowed'] },
      { reason: 'authfailure', patterns: ['domain authentication fail'] },
      { reason: 'badreputation', patterns: ['connection rejected by policy'] },
      { reason: 'rejected', patterns: ['sender envelope domain not allowed', 'your (?:domain|email address) has been (?:blocked|blacklisted)', 'badmailfrom list'] },
      { reason: 'blocked', patterns: ['your ip is in the pbl', 'your ip address (?:\\S+ )?has been (?:blocked|blacklisted)'] },
      { reason: 'contenterror', patterns: ['stray linefeeds in message'] },
      { reason: 'norelaying', patterns: ['trying to use me \\S+ as a relay'] },
      { reason: 'notcompliantrfc', patterns: ['this message is not rfc ?5322'] },
      { reason: 'securityerror', patterns: ['please turn on smtp authentication'] },
      { reason: 'spamdetected', patterns: ['message filtered', 'filtered by outbound scanning'] },
      { reason: 'toomanyconn', patterns: ['too many recipients received this hour', 'too many messages \\(#4\\.3\\.0\\)'] },
    ],
  },
  {
    // Yahoo's inbound servers (*.yahoodns.net) use one deferral sentence ("[TSS04] ... unexpected
    // volume or user complaints") for any sender they will not take mail from, reputation or not.
    provider: 'yahoo',
    host: '\\byahoodns\\.net\\b',
    rules: [
      { reason: 'authfailure', patterns: ['requires all senders to authenticate with either spf or dkim'] },
      { reason: 'blocked', patterns: ['because the ip is in spamhaus\'s list', 'not accepted from ip addresses on spamhaus'] },
      { reason: 'norelaying', patterns: ['relaying denied for '] },
      { reason: 'notcompliantrfc', patterns: ['headers are not rfc compliant'] },
      { reason: 'policyviolation', patterns: ['not accepted for policy reasons'] },
      {
        reason: 'rejected',
        patterns: ['temporarily deferred due to unexpected volume or user complaints', 'unresolvable rfc\\.?5321 (?:from )?domain', 'will be permanently deferred'],
      },
      { reason: 'suspend', patterns: ['this mailbox is disabled', ' is no longer valid\\.'] },
      { reason: 'speeding', patterns: ['receiving mail too quickly'] },
      { reason: 'toomanyconn', patterns: ['max message per connection reached'] },
      { reason: 'userunknown', patterns: ['this user doesn\'t have an? \\S+ account', 'mailbox not found'] },
    ],
  },
  {
    // Google (Gmail and Workspace) inbound servers, in the sentences of Google's SMTP error
    // reference. Authentication first: several of its rate-limit notices name SPF or DKIM.
    provider: 'google',
    host: '\\bgoogle\\.com\\b|\\bgmail\\.com\\b|\\bgooglemail\\.com\\b',
    rules: [
      // Google's own sentences that name a reason other than their words would elsewhere (its
      // published SMTP error list): quotas are a sending rate, protocol complaints a syntax error.
      { reason: 'exceedlimit', patterns: ['5\\.2\\.3 .{0,60}exceeded google\'s message size limits', 'exceeds google\'s header name limit'] },
      { reason: 'expired', patterns: ['connection expired'] },
      { reason: 'notcompliantrfc', patterns: ['5\\.1\\.7 .{0,80}is not a valid rfc 5321 address'] },
      { reason: 'securityerror', patterns: ['cannot decode response', 'please log in with your web browser'] },
      {
        reason: 'speeding',
        patterns: ['peak smtp relay limit exceeded', 'daily (?:user )?sending (?:quota|limit) exceeded', 'daily smtp relay (?:sending )?limit exceeded', '5\\.7\\.1 .{0,20}this mail has been rate limited'],
      },
      { reason: 'syntaxerror', patterns: ['smtp protocol violation', 'unrecognized authentication type', 'xoauth is no longer supported', 'too many unauthenticated commands'] },
      { reason: 'systemerror', patterns: ['server busy'] },
      { reason: 'userunknown', patterns: ['we weren\'t able to find the recipient domain'] },
      { reason: 'policyviolation', patterns: ['has a policy that prohibited'] },
      {
        reason: 'authfailure',
        patterns: [
          'the spf record of the sending domain', 'senders to authenticate (?:their email )?with (?:either spf or dkim|spf|dkim)', 'spf record with a hard fail policy',
          'hard fail policy \\(-all\\)', 'not accepted due to domain\'s dmarc policy', 'fails to pass authentication checks', 'aligned with either the authenticated spf or dkim',
        ],
      },
      { reason: 'badreputation', patterns: ['very low reputation of the sending'] },
      { reason: 'requireptr', patterns: ['does not have a ptr record', 'have a ptr record, or the ptr record', 'ipv6 sending guidelines regarding ptr', 'does not match the ip address of the hostname'] },
      {
        reason: 'blocked',
        patterns: ['ip not in whitelist for rcpt domain', 'try again later, closing connection', 'helo/ehlo argument (?:is invalid|not allowed)', 'an unusual rate of (?:unsolicited )?mail'],
      },
      { reason: 'spamdetected', patterns: ['nature of the content or the links within', 'likely unsolicited mail'] },
      {
        reason: 'notcompliantrfc',
        patterns: [
          'missing a valid address in the from: header', 'multiple addresses in from: header', 'is not rfc ?5322 compliant', 'missing a valid message-id',
          'unicode character in a disallowed header', 'encoded-word syntax is not permitted', 'mail message is malformed',
        ],
      },
      {
        reason: 'policyviolation',
        patterns: ['illegal attachment on your message', 'content presents a potential security issue', 'has a policy that prohibited the mail', 'sending messages with the same message-id'],
      },
      { reason: 'mesgtoobig', patterns: ['exceeded google\'s message size limits', 'exceeds google\'s message size limit'] },
      { reason: 'exceedlimit', patterns: ['exceeds google\'s limit of .{0,20}attachments', 'message header size limit', 'bytes per individual header size'] },
      { reason: 'mailboxfull', patterns: ['inbox is out of storage space', 'account that you tried to reach is over quota', 'email quota exceeded'] },
      { reason: 'suspend', patterns: ['account that you tried to reach is (?:disabled|inactive)'] },
      { reason: 'securityerror', patterns: ['must issue a starttls command first', 'tls required for rcpt domain', 'senders to use tls/ssl', 'too many login attempts', 'username and password not accepted', 'application-specific password required'] },
      { reason: 'norelaying', patterns: ['mail relay denied', 'invalid credentials for relay', 'not authorized to send email directly to our servers'] },
      { reason: 'rejected', patterns: ['mail sending denied', 'unauthenticated email is not accepted'] },
      // A recipient taking mail too fast for its mailbox is speed; quotas of the sender are limits.
      { reason: 'speeding', patterns: ['is receiving mail too quickly', 'rate that prevents additional messages'] },
      {
        reason: 'toomanyconn',
        patterns: ['peak smtp relay limit exceeded', 'daily (?:sending quota|user sending limit|smtp relay (?:sending )?limit) exceeded', 'this mail has been rate limited'],
      },
      { reason: 'networkerror', patterns: ['message exceeded 50 hops'] },
      { reason: 'expired', patterns: ['connection expired, try reconnecting', 'timeout - closing connection'] },
      {
        reason: 'systemerror',
        patterns: ['temporary system problem', 'multiple destination domains per transaction', 'mail server (?:has )?temporarily rejected (?:this )?message', 'domain policy size per transaction exceeded'],
      },
    ],
  },
  {
    // Apple iCloud Mail's inbound servers, in the sentences of its postmaster page.
    provider: 'apple',
    host: '\\bmail\\.icloud\\.com\\b|\\.apple\\.com\\b|\\bicloud\\.com\\b|\\bme\\.com\\b|\\bmac\\.com\\b',
    rules: [
      { reason: 'authfailure', patterns: ['\'s dmarc policy', 'for failing both spf and dkim'] },
      {
        reason: 'blocked',
        patterns: ['domain present in the spamhaus', 'rejected due to listing in spamhaus', 'blocked - see https?://support\\.proofpoint\\.com/dnsbl', 'esmtp not accepting connections'],
      },
      { reason: 'hasmoved', patterns: ['recipient no longer on server'] },
      { reason: 'mailboxfull', patterns: ['user is over quota'] },
      { reason: 'norelaying', patterns: ['relay access denied'] },
      { reason: 'notaccept', patterns: ['host/domain does not accept mail'] },
      { reason: 'policyviolation', patterns: ['rejected due to local policy'] },
      { reason: 'rejected', patterns: ['sender address rejected'] },
      { reason: 'speeding', patterns: ['deferred due to excessive volume'] },
      { reason: 'userunknown', patterns: ['inactive email address', 'user does not exist', 'unknown or illegal alias'] },
    ],
  },
  {
    // AOL's outbound relays report DNS failures for the recipient domain in their own terms: a
    // malformed answer to the MX query means the domain cannot take mail at all.
    provider: 'aol',
    host: '\\baol\\.com\\b',
    rules: [
      { reason: 'notaccept', patterns: ['type=mx: malformed or unexpected name server reply'] },
      { reason: 'hostunknown', patterns: ['host or domain name not found'] },
    ],
  },
  {
    // NTT docomo's inbound servers say "Unknown user" both for a missing mailbox and for the
    // recipient's own reception filter; only the stage tells them apart (see PROVIDER_STAGES).
    provider: 'nttdocomo',
    host: 'mfsmax\\.docomo\\.ne\\.jp',
    rules: [
      { reason: 'mailboxfull', patterns: ['552 too much mail data'] },
      { reason: 'toomanyconn', patterns: ['552 too many recipients'] },
      { reason: 'syntaxerror', patterns: ['503 bad sequence of commands', `504 command parameter ${UNSUPPORTED}`] },
    ],
  },
];

/**
 * Providers whose generic answers mean different things at different SMTP stages. Used when the
 * provider's own phrases (PROVIDER_RULES) did not decide; `status` is the reported status code.
 */
export const PROVIDER_STAGES: { provider: string; host: string; status: string; command: string; reason: Reason }[] = [
  // Refused at RCPT TO: the mailbox is not there. Refused after DATA: the recipient's filter
  // turned the sender away.
  { provider: 'nttdocomo', host: 'mfsmax\\.docomo\\.ne\\.jp', status: '5.0.0', command: 'RCPT', reason: 'userunknown' },
  { provider: 'nttdocomo', host: 'mfsmax\\.docomo\\.ne\\.jp', status: '5.0.0', command: 'DATA', reason: 'rejected' },
];

/**
 * The order of the decision procedure (procedure.ts). `firstPass`: reasons asked in turn whether
 * the status or the diagnostic names them, the specific before the general. `secondPass`: the
 * phrases tried when the status is vague or the diagnostic is not an SMTP reply. `retry`: status
 * meanings too vague to decide alone. `userunknownUnless`: reasons whose words overrule a
 * bad-mailbox status ("5.1.1 ... relay access denied" is a relay refusal).
 */
export const PROCEDURE: { firstPass: Reason[]; secondPass: Reason[]; retry: Reason[]; userunknownUnless: Reason[] } = {
  firstPass: [
    'mailboxfull', 'mesgtoobig', 'exceedlimit', 'suspend', 'hasmoved', 'norelaying', 'authfailure', 'userunknown', 'filtered', 'requireptr',
    'notcompliantrfc', 'badreputation', 'rejected', 'hostunknown', 'spamdetected', 'speeding', 'toomanyconn', 'blocked',
  ],
  secondPass: [
    'mailboxfull', 'authfailure', 'badreputation', 'speeding', 'spamdetected', 'virusdetected', 'policyviolation', 'norelaying', 'systemerror',
    // Giving up after the queue lifetime is said over the last network error seen: expired first.
    'expired', 'networkerror', 'suspend', 'contenterror', 'systemfull', 'notaccept', 'securityerror', 'mailererror',
  ],
  retry: ['undefined', 'onhold', 'systemerror', 'securityerror', 'expired', 'suspend', 'networkerror', 'hostunknown', 'userunknown'],
  userunknownUnless: ['norelaying', 'blocked', 'mailboxfull', 'hasmoved', 'rejected', 'notaccept'],
};

/**
 * What each enhanced status code (RFC 3463 and its successors) means in the vocabulary of
 * reasons. Generic x.0.0 codes and the vague 4.3.0 / 4.4.0 / 4.5.0 / 4.7.0 are absent: they
 * name nothing. 5.2.1 ("mailbox disabled, not accepting messages") is answered by filters as
 * often as by disabled accounts, so it names a filter; the words can still say suspend.
 */
export const STATUS_NAMES: Record<string, Reason> = {
  '4.1.6': 'hasmoved', '4.1.7': 'rejected', '4.1.8': 'rejected', '4.1.9': 'systemerror',
  '4.2.1': 'suspend', '4.2.2': 'mailboxfull', '4.2.3': 'exceedlimit', '4.2.4': 'filtered',
  '4.3.1': 'systemfull', '4.3.2': 'notaccept', '4.3.3': 'systemerror', '4.3.5': 'systemerror',
  '4.4.1': 'expired', '4.4.2': 'networkerror', '4.4.3': 'systemerror', '4.4.4': 'networkerror', '4.4.5': 'systemfull', '4.4.6': 'networkerror',
  '4.4.7': 'expired', '4.4.8': 'networkerror',
  '4.5.3': 'systemerror', '4.5.5': 'systemerror',
  '4.6.0': 'contenterror', '4.6.2': 'contenterror', '4.6.5': 'contenterror',
  '4.7.1': 'blocked', '4.7.2': 'blocked', '4.7.5': 'securityerror', '4.7.6': 'securityerror', '4.7.7': 'securityerror', '4.7.12': 'securityerror',
  '4.7.15': 'securityerror', '4.7.16': 'mesgtoobig', '4.7.24': 'authfailure', '4.7.25': 'requireptr', '4.7.26': 'authfailure',
  '5.1.0': 'userunknown', '5.1.1': 'userunknown', '5.1.2': 'hostunknown', '5.1.3': 'userunknown', '5.1.4': 'filtered', '5.1.6': 'hasmoved',
  '5.1.7': 'rejected', '5.1.8': 'rejected', '5.1.9': 'systemerror', '5.1.10': 'notaccept',
  '5.2.0': 'filtered', '5.2.1': 'filtered', '5.2.2': 'mailboxfull', '5.2.3': 'exceedlimit', '5.2.4': 'filtered',
  '5.3.0': 'systemerror', '5.3.1': 'systemfull', '5.3.2': 'notaccept', '5.3.3': 'systemerror', '5.3.4': 'mesgtoobig', '5.3.5': 'systemerror',
  '5.4.0': 'networkerror', '5.4.3': 'systemerror', '5.4.4': 'hostunknown',
  '5.5.2': 'syntaxerror', '5.5.3': 'toomanyconn', '5.5.4': 'systemerror', '5.5.5': 'systemerror', '5.5.6': 'syntaxerror',
  '5.6.0': 'contenterror', '5.6.1': 'contenterror', '5.6.2': 'contenterror', '5.6.3': 'contenterror', '5.6.5': 'contenterror', '5.6.6': 'contenterror',
  '5.6.7': 'contenterror', '5.6.8': 'contenterror', '5.6.9': 'contenterror',
  '5.7.0': 'securityerror', '5.7.1': 'securityerror', '5.7.2': 'securityerror', '5.7.3': 'securityerror', '5.7.4': 'securityerror', '5.7.5': 'securityerror',
  '5.7.6': 'securityerror', '5.7.7': 'securityerror', '5.7.8': 'securityerror', '5.7.9': 'securityerror', '5.7.10': 'securityerror', '5.7.11': 'securityerror',
  '5.7.13': 'suspend', '5.7.14': 'securityerror', '5.7.15': 'securityerror', '5.7.16': 'mesgtoobig', '5.7.17': 'hasmoved', '5.7.18': 'hasmoved',
  '5.7.19': 'securityerror', '5.7.20': 'authfailure', '5.7.21': 'authfailure', '5.7.22': 'authfailure', '5.7.23': 'authfailure', '5.7.24': 'authfailure',
  '5.7.25': 'requireptr', '5.7.26': 'authfailure', '5.7.27': 'notaccept', '5.7.28': 'spamdetected', '5.7.29': 'authfailure', '5.7.30': 'securityerror',
};
