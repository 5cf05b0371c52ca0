import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TEXT_RULES, PROVIDER_RULES, STATUS_REASONS } from './rules.ts';
import { matchText, matchProvider, matchProviderStage, decideReason, isHardBounce, findStatus, findReplyCode } from './reason.ts';
import type { Finding, Reason } from './types.ts';

// Phrases as real servers write them, one or more per rule: each must be classified by that
// rule's reason. Every reason that has text rules must have examples here.
const EXAMPLES: [Reason, string][] = [
  ['mailererror', 'pipe to |/usr/local/bin/filter: command died with status 75'],
  ['hasmoved', '551 5.1.6 The address has moved to another provider'],
  ['mailboxfull', '552 5.2.2 <a@b.example>: Mailbox full'],
  ['mailboxfull', '452 4.2.2 The email account that you tried to reach is over quota'],
  ['mesgtoobig', '552 5.3.4 Message size exceeds fixed maximum message size (10485760)'],
  ['exceedlimit', '552 Message header size exceeds limit'],
  ['suspend', '550 5.2.1 The email account that you tried to reach is disabled'],
  ['suspend', 'Recipient address rejected: User a@b.example temporary locked'],
  ['userunknown', '550 5.1.1 <a@b.example>: Recipient address rejected: User unknown in local recipient table'],
  ['userunknown', "Sorry, no mailbox here by that name. (#5.1.1)"],
  ['userunknown', 'The email account that you tried to reach does not exist.'],
  ['spamdetected', 'Your email to group x was rejected due to spam classification. Set up SPF records'],
  ['spamdetected', '550-REJECTED - Blacklisted URL in message. See http://lookup.uribl.com'],
  ['securityerror', '551 5.7.1 <a@b.example>: Recipient address rejected: Delivery not authorized'],
  ['hostunknown', 'The account or domain may not exist, they may be blacklisted'],
  ['norelaying', '554 5.7.1 <a@b.example>: Relay access denied'],
  ['authfailure', '550 5.7.26 This message does not pass DMARC policy'],
  ['authfailure', '550-5.7.1 This message does not have authentication information or fails to pass authentication checks'],
  ['requireptr', '550 5.7.25 The IP address sending this message does not have a PTR record'],
  ['virusdetected', '554 5.7.1 Message rejected: virus found in attachment'],
  ['badreputation', '421 4.7.0 [TSS04] Messages temporarily deferred due to unexpected volume or user complaints'],
  ['blocked', '554 5.7.1 Service unavailable; Client host [192.0.2.49] blocked using zen.spamhaus.org'],
  ['blocked', "Connected to 192.0.2.1 but my name was rejected."],
  ['spamdetected', '550 5.7.1 Message content rejected, UBE'],
  ['policyviolation', '554 Mail from a@b.example rejected for policy reasons'],
  ['filtered', '550 5.7.1 Refused due to recipient preferences'],
  ['notcompliantrfc', 'Messages with multiple addresses in From: header are not accepted'],
  ['securityerror', '550 Unauthenticated senders not allowed'],
  ['rejected', '550 5.1.8 <a@b.example>: Sender address rejected: Domain not found'],
  ['hostunknown', 'Host or domain name not found. Name service error for name=nowhere.example type=A: Host not found'],
  ['notaccept', 'an MX or SRV record indicated no SMTP service'],
  ['contenterror', '554 5.6.0 Message header error: duplicate header'],
  ['expired', 'Could not deliver for the last 432000 seconds. Giving up.'],
  ['toomanyconn', '421 Too many concurrent SMTP connections from this IP address; please try again later'],
  ['speeding', '421 4.7.28 Mail sent from your IP address has been temporarily rate limited'],
  ['speeding', '451 Please try again slower'],
  ['systemfull', '452 4.4.5 Insufficient disk space; try again later'],
  ['systemerror', '451 Could not load DRD for domain'],
  ['systemerror', 'Loop Alert: Duplicated Message-ID in <a@b.example>'],
  ['mesgtoobig', 'SMTP error from remote mail server after end of data: 500 Line limit exceeded'],
  ['networkerror', '554 5.4.6 Hop count exceeded - possible mail loop'],
  ['syntaxerror', '501 5.5.4 Syntax error in parameters'],
  // Chinese providers often answer in Chinese.
  ['userunknown', '550 收件人不存在'],
  ['mailboxfull', '552 邮箱空间已满'],
  ['suspend', '550 该账号已被冻结'],
  ['spamdetected', '554 邮件被判定为垃圾邮件'],
  ['toomanyconn', '451 发送频率过高，请稍后再试'],
  ['filtered', '550 收件人设置了拒收'],
  ['mesgtoobig', '552 邮件大小超过限制'],
];

test('every text rule reason has examples and each example is classified by its reason', () => {
  const reasons = new Set(TEXT_RULES.map((r) => r.reason));
  for (const reason of reasons) assert.ok(EXAMPLES.some(([r]) => r === reason), `no example for ${reason}`);
  for (const [reason, text] of EXAMPLES) assert.equal(matchText(text)?.reason, reason, `"${text}"`);
});

test('every pattern is a valid regular expression that matches something of its own', () => {
  for (const rule of TEXT_RULES) {
    for (const p of rule.patterns) assert.doesNotThrow(() => new RegExp(p, 'i'), `${rule.reason}: ${p}`);
  }
});

test('text that says nothing known matches no rule', () => {
  assert.equal(matchText('Thank you for your message.'), null);
  assert.equal(matchText(''), null);
});

test('provider codes decide before the general wording', () => {
  assert.equal(matchProvider('smtp-in.orange.fr', '550 5.5.0 Adresse destinataire invalide. Invalid recipient. LPN007_416')?.reason, 'userunknown');
  assert.equal(matchProvider('smtp-in.orange.fr', '550 Client host blocked for spamming issues. OFR006_102')?.reason, 'blocked');
  assert.equal(matchProvider('mx.cloudfilter.net', '550 5.1.0 sender rejected. https://www.cox.com/ AUP#CDRBL')?.reason, 'blocked');
  assert.equal(matchProvider('mx.example.org', 'no provider here'), null);
  assert.equal(matchProvider('163mx01.mxmail.netease.com', '554 DT:SPM 163 smtp3, content denied')?.reason, 'spamdetected');
  assert.equal(matchProvider('mx.126.com', '451 RP:QRC 126 smtp, too many mails')?.reason, 'toomanyconn');
  for (const p of PROVIDER_RULES) assert.ok(p.rules.length > 0, p.provider);
});

test('Spectrum AUP codes decide by number, with or without a direction prefix', () => {
  const say = (code: string) => matchProvider('mx.charter.net', `550 5.1.0 sender rejected. See https://www.spectrum.net/support for more information. ${code}`)?.reason;
  assert.equal(say('AUP#In-1320'), 'toomanyconn');
  assert.equal(say('AUP#O-1400'), 'speeding');
  assert.equal(say('AUP#O-1010'), 'rejected');
  assert.equal(say('AUP#I-1000'), 'blocked');
  assert.equal(say('AUP#I-1120'), 'requireptr');
  assert.equal(say('AUP#1530'), 'mesgtoobig');
  assert.equal(say('AUP#In-1170'), 'policyviolation');
});

test('Mimecast gateway sentences', () => {
  const mc = (text: string) => matchProvider('eu-smtp-inbound-2.mimecast.com', text)?.reason;
  assert.equal(mc('554 Host network not allowed - https://community.mimecast.com/docs/DOC-1369#554 [AbCdEf.eu123]'), 'policyviolation');
  assert.equal(mc('554 email rejected due to security policies - MCSpamSignature.xx.1.9'), 'virusdetected');
  assert.equal(mc('550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550'), 'userunknown');
  assert.equal(mc('550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550'), 'rejected');
  assert.equal(mc('550 Rejected by header based Anti-Spoofing policy: a@b.example'), 'policyviolation');
});

test('AOL relays: a broken MX answer means the domain takes no mail', () => {
  assert.equal(matchProvider('omr-m12.mx.aol.com', 'Name service error for name=nowhere.example type=MX: Malformed or unexpected name server reply')?.reason, 'notaccept');
  assert.equal(matchProvider('omr-m12.mx.aol.com', 'Host or domain name not found. Name service error for name=nowhere.example type=A: Host not found')?.reason, 'hostunknown');
  // Another relay saying the same is a DNS problem, not a verdict on the domain.
  assert.equal(decideReason(finding({ status: '5.4.4', remoteHost: '', reportingHost: 'mail.example.net', diagnostic: 'Name service error for name=nowhere.example type=MX: Malformed or unexpected name server reply' })), 'networkerror');
  // The reporting host speaks for the answer when no remote host is named.
  assert.equal(decideReason(finding({ status: '5.4.4', reportingHost: 'omr-m12.mx.aol.com', diagnostic: 'Name service error for name=nowhere.example type=MX: Malformed or unexpected name server reply' })), 'notaccept');
});

test('au reports: the opening sentence about the account decides', () => {
  const ctx = 'The user(s) account is disabled.\n<a@ezweb.ne.jp>: 550 user unknown (in reply to RCPT TO command)';
  assert.equal(decideReason(finding({ recipient: 'a@ezweb.ne.jp', status: '5.0.0', diagnostic: '<a@ezweb.ne.jp>: 550 user unknown (in reply to RCPT TO command)', context: ctx, command: 'RCPT' })), 'suspend');
  assert.equal(matchProvider('lsean.ezweb.ne.jp', 'The user(s) account is temporarily over quota.')?.reason, 'mailboxfull');
});

test("Yahoo's inbound servers: the volume deferral refuses the sender", () => {
  const y = (text: string) => matchProvider('mta5.am0.yahoodns.net', text)?.reason;
  assert.equal(y('421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1'), 'rejected');
  assert.equal(y("554 delivery error: dd This user doesn't have a yahoo.com account (a@yahoo.example)"), 'userunknown');
  assert.equal(y('554 30 Sorry, your message to a@aol.example cannot be delivered. This mailbox is disabled (554.30)'), 'suspend');
  // Elsewhere the same words describe the sender's reputation.
  assert.equal(matchText('421 4.7.0 [TSS04] Messages temporarily deferred due to unexpected volume or user complaints')?.reason, 'badreputation');
});

test("Google's inbound sentences", () => {
  const g = (text: string) => matchProvider('gmail-smtp-in.l.google.com', text)?.reason;
  assert.equal(g('421-4.7.0 This message is suspicious due to the very low reputation of the sending domain. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.'), 'badreputation');
  assert.equal(g('421-4.7.26 This mail has been rate limited because it is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.'), 'authfailure');
  assert.equal(g('550-5.7.1 Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked.'), 'spamdetected');
  assert.equal(g('550-5.7.25 The IP address sending this message does not have a PTR record setup'), 'requireptr');
  assert.equal(g('450-4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your message at a later time.'), 'speeding');
  assert.equal(g('552-5.7.0 This message was blocked because its content presents a potential security issue.'), 'policyviolation');
  assert.equal(g('550-5.7.1 Messages missing a valid Message-ID: header are not accepted.'), 'notcompliantrfc');
  // Its published list names a reason other than the words would elsewhere.
  assert.equal(g('550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to'), 'speeding');
  assert.equal(g('550 5.7.1 This mail has been rate limited. For more information'), 'speeding');
  assert.equal(g('552 5.2.3 Your message exceeded Google\'s message size limits.'), 'exceedlimit');
  assert.equal(g('421 4.7.0 Connection expired, try reconnecting.'), 'expired');
  assert.equal(g('451 4.5.0 SMTP protocol violation, see RFC 2821'), 'syntaxerror');
  assert.equal(g('421 4.4.5 Server busy, try again later.'), 'systemerror');
  assert.equal(g('553 5.1.2 We weren\'t able to find the recipient domain.'), 'userunknown');
  assert.equal(g('535 5.7.1 Please log in with your web browser and then try again.'), 'securityerror');
});

test('Cox AUP codes, then its sentences', () => {
  const cx = (text: string) => matchProvider('cxr.mx.a.cloudfilter.net', text)?.reason;
  assert.equal(cx('554 5.7.1 sender rejected. AUP#CXDNS'), 'requireptr');
  assert.equal(cx('421 4.7.0 ESMTP server temporarily unavailable, too many connections. AUP#CXCNCT'), 'toomanyconn');
  assert.equal(cx('554 5.7.1 Message rejected. AUP#IPBL0011'), 'blocked');
  assert.equal(matchProvider('mx.cox.net', '550 5.1.1 recipient rejected')?.reason, 'userunknown');
});

test('GoDaddy IB codes, then its sentences', () => {
  const gd = (text: string) => matchProvider('p3plibsmtp01-05.prod.phx3.secureserver.net', text)?.reason;
  assert.equal(gd('554 Connection refused. This IP has a poor reputation on Cloudmark Sender Intelligence (CSI). IB103'), 'badreputation');
  assert.equal(gd('550 192.0.2.1 has sent to too many recipients this hour. IB607'), 'speeding');
  assert.equal(gd('421 Temporarily rejected. Reverse DNS for this IP failed. IB108'), 'requireptr');
  assert.equal(gd('550 a@b.example Invalid SPF record. Inspect your SPF settings, and try again. IB508'), 'authfailure');
  assert.equal(gd('550 Recipient not found'), 'userunknown');
});

test('Microsoft inbound sentences', () => {
  const ms = (text: string) => matchProvider('b-example.mail.protection.outlook.com', text)?.reason;
  assert.equal(ms('550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit the delist portal'), 'blocked');
  assert.equal(ms('451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.'), 'badreputation');
  assert.equal(ms('550 5.7.509 Access denied, sending domain sender.example does not pass DMARC verification'), 'authfailure');
});

test('Tencent sentences', () => {
  const qq = (text: string) => matchProvider('mx3.qq.com', text)?.reason;
  assert.equal(qq('550 Suspected spam ip, please try later. http://service.mail.qq.com/detail/122/66'), 'blocked');
  assert.equal(qq('550 Suspected spam. http://service.mail.qq.com/detail/122/71'), 'rejected');
  assert.equal(qq('550 Mailbox unavailable or access denied. http://service.mail.qq.com/detail/122/166'), 'speeding');
  assert.equal(qq('550 Mailbox not found. http://service.mail.qq.com/detail/122/169'), 'userunknown');
  assert.equal(qq('550 Ip frequency limited. http://service.mail.qq.com/detail/122/172'), 'toomanyconn');
});

test('Apple iCloud Mail sentences', () => {
  const ap = (text: string) => matchProvider('mx01.mail.icloud.com', text)?.reason;
  assert.equal(ap('550 5.1.1 <a@icloud.example>: inactive email address (in reply to RCPT TO command)'), 'userunknown');
  assert.equal(ap('421 4.7.1 Messages to a@icloud.example deferred due to excessive volume. Try again later'), 'speeding');
  assert.equal(ap('550 5.7.1 [CS01] Message rejected due to local policy. Please visit the support page'), 'policyviolation');
  assert.equal(ap('554 5.7.1 Your message was rejected due to sender.example\'s DMARC policy.'), 'authfailure');
});

test('Email Security.cloud (MessageLabs) sentences', () => {
  const ml = (text: string) => matchProvider('server-7.bemta-3.messagelabs.com', text)?.reason;
  assert.equal(ml('542 lee@customer.example Rejected'), 'userunknown');
  assert.equal(ml('553-mail rejected because your IP is in the PBL. See http://www.spamhaus.org/pbl'), 'blocked');
  assert.equal(ml('553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)'), 'rejected');
  assert.equal(ml('553 Stray linefeeds in message (#5.6.2)'), 'contenterror');
  assert.equal(decideReason(finding({ reportingHost: 'server-7.bemta-3.messagelabs.com', status: '5.0.0', diagnostic: '542 lee@customer.example Rejected', diagnosticReported: true })), 'userunknown');
});

test('NTT docomo: "Unknown user" at RCPT TO is a missing mailbox, after DATA the sender was refused', () => {
  assert.equal(matchProviderStage('mfsmax.docomo.ne.jp', '5.0.0', 'RCPT'), 'userunknown');
  assert.equal(matchProviderStage('mfsmax.docomo.ne.jp', '5.0.0', 'DATA'), 'rejected');
  assert.equal(matchProviderStage('mx.example.jp', '5.0.0', 'DATA'), null);
  assert.equal(decideReason(finding({ remoteHost: 'mfsmax.docomo.ne.jp', status: '5.0.0', command: 'DATA', diagnostic: '550 Unknown user a@docomo.example' })), 'rejected');
  assert.equal(matchProvider('mfsmax.docomo.ne.jp', '552 Too much mail data')?.reason, 'mailboxfull');
});

function finding(over: Partial<Finding>): Finding {
  return { recipient: 'a@b.example', status: '', replyCode: '', action: 'failed', diagnostic: '', context: '', remoteHost: '', command: '', diagnosticType: 'smtp', ...over };
}

test('precedence: specific status, then context, then command, then onhold', () => {
  assert.equal(decideReason(finding({ status: '5.1.1', diagnostic: 'Requested action not taken' })), 'userunknown');
  assert.equal(decideReason(finding({ status: '5.1.6', diagnostic: 'not our customer' })), 'hasmoved');
  assert.equal(decideReason(finding({ diagnostic: 'unexplained', context: 'mailbox is full' })), 'mailboxfull');
  assert.equal(decideReason(finding({ diagnostic: 'unexplained', command: 'MAIL' })), 'rejected');
  assert.equal(decideReason(finding({ diagnostic: 'unexplained', command: 'CONN' })), 'blocked');
  assert.equal(decideReason(finding({ diagnostic: 'unexplained', status: '5.0.0' })), 'onhold');
  assert.equal(decideReason(finding({ action: '', diagnostic: '' })), 'undefined');
  assert.equal(decideReason(finding({ action: 'delayed', diagnostic: 'unexplained' })), 'expired');
});

test('adjustments: user unknown after DATA is a filter, a temporary host lookup failure is the network', () => {
  assert.equal(decideReason(finding({ diagnostic: '550 User unknown', command: 'DATA' })), 'filtered');
  assert.equal(decideReason(finding({ diagnostic: '550 5.1.1 User unknown', status: '5.1.1', command: 'DATA' })), 'userunknown');
  assert.equal(decideReason(finding({ diagnostic: 'Domain name not found', status: '4.0.0' })), 'networkerror');
  assert.equal(decideReason(finding({ diagnostic: '553 No such domain', command: 'MAIL' })), 'rejected');
  assert.equal(decideReason(finding({ diagnostic: '550 5.7.1 550 User Unknown: a@b.example', status: '5.7.1' })), 'filtered');
  assert.equal(decideReason(finding({ diagnostic: '550 Unknown user a@b.example', agent: 'mcafee' })), 'filtered');
  assert.equal(decideReason(finding({ diagnostic: '550 Unknown user a@b.example', agent: 'mcafee', command: 'RCPT' })), 'userunknown');
  assert.equal(decideReason(finding({ diagnostic: 'Unknown user: a@b.example' })), 'userunknown');
});

test('"user unknown" quoted from a remote reply is a filter unless a status or RCPT TO confirms it', () => {
  assert.equal(decideReason(finding({ diagnostic: 'host mx.b.example[192.0.2.1] said: 550 <a@b.example>: User unknown' })), 'filtered');
  assert.equal(decideReason(finding({ diagnostic: "5.3.0 - Other mail system problem 550-'Unknown user a@b.example'", status: '5.3.0' })), 'filtered');
  assert.equal(decideReason(finding({ diagnostic: 'host mx.b.example said: 550 <a@b.example>: User unknown', command: 'RCPT' })), 'userunknown');
  assert.equal(decideReason(finding({ diagnostic: '550 5.1.1 <a@b.example>: User unknown', status: '5.1.1' })), 'userunknown');
  assert.equal(decideReason(finding({ diagnostic: '550 #5.1.0 Address rejected: no such user', status: '5.1.0' })), 'userunknown');
  // The mailbox host's own report, with no reply quoted, is its verdict on its own mailboxes.
  assert.equal(decideReason(finding({ diagnostic: 'The recipient name is not recognized' })), 'userunknown');
  // A local delivery agent's word comes before the reply that carried it.
  assert.equal(decideReason(finding({ diagnostic: 'mail.local: unknown user: a 554 <a@b.example>... Service unavailable', status: '5.5.0' })), 'userunknown');
});

test('"user unknown" in a DSN Diagnostic-Code field is the refusing server speaking', () => {
  assert.equal(decideReason(finding({ status: '5.0.0', diagnosticReported: true, diagnostic: 'The email account that you tried to reach does not exist.' })), 'filtered');
  assert.equal(decideReason(finding({ status: '5.0.0', diagnostic: 'The email account that you tried to reach does not exist.' })), 'userunknown');
});

test('a header refused under a policy status is the policy, a malformed header is content', () => {
  assert.equal(matchText('554 5.7.0 Header error')?.reason, 'policyviolation');
  assert.equal(matchText('554 5.6.0 Message header error: duplicate header')?.reason, 'contenterror');
});

test('mailbox hosts that speak for their own subscribers', () => {
  assert.equal(decideReason(finding({ recipient: '5551234567@vtext.com', diagnostic: '550 - Requested action not taken: no such user here' })), 'userunknown');
  assert.equal(decideReason(finding({ recipient: 'a@ezweb.ne.jp', status: '5.0.0', diagnostic: '550 <a@ezweb.ne.jp>: User unknown' })), 'userunknown');
  assert.equal(decideReason(finding({ reportingHost: 'BAY004-MC1F22.hotmail.com', status: '5.5.0', diagnostic: '550 Requested action not taken: mailbox unavailable (-1234:5678:-1234)' })), 'userunknown');
  assert.equal(decideReason(finding({ remoteHost: 'b-example.mail.protection.outlook.com', status: '5.4.1', diagnostic: '550 5.4.1 Recipient address rejected: Access denied. [AM0EUR01FT012.eop-eur01.prod.protection.outlook.com]' })), 'userunknown');
  assert.equal(decideReason(finding({ status: '5.1.10', diagnostic: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup' })), 'userunknown');
});

test('"user unknown" with status 5.2.1: RCPT TO says unknown, a disabled mailbox says suspend, otherwise a filter', () => {
  assert.equal(decideReason(finding({ status: '5.2.1', diagnostic: '550 5.2.1 <a@b.example>... User Unknown' })), 'filtered');
  assert.equal(decideReason(finding({ status: '5.2.1', statusText: '5.2.1 (mailbox disabled, not accepting messages)', diagnostic: '550 5.2.1 <a@b.example>... User Unknown' })), 'suspend');
  assert.equal(decideReason(finding({ status: '5.2.1', diagnostic: '550 5.2.1 <a@b.example>... User Unknown', command: 'RCPT' })), 'userunknown');
});

test('a specific status wins over a catch-all phrase', () => {
  assert.equal(decideReason(finding({ status: '4.4.3', diagnostic: 'Unable to contact LDAP server. This message has been in the queue too long.' })), 'systemerror');
});

test('hard bounce follows the reason, notaccept unless a code says temporary', () => {
  for (const r of ['userunknown', 'hostunknown', 'hasmoved'] as const) assert.equal(isHardBounce(r, '5.1.1'), true);
  for (const r of ['mailboxfull', 'filtered', 'blocked', 'expired', 'feedback', 'vacation'] as const) assert.equal(isHardBounce(r, '5.0.0'), false);
  assert.equal(isHardBounce('notaccept', '5.1.10'), true);
  assert.equal(isHardBounce('notaccept', '4.0.0'), false);
  // Nothing says it was temporary: a domain that takes no mail is gone for good.
  assert.equal(isHardBounce('notaccept', ''), true);
  assert.equal(isHardBounce('notaccept', '', '421'), false);
});

test('status and reply codes are found in text, failures before successes', () => {
  assert.equal(findStatus('Out: 250 2.1.5 Ok Out: 451 4.3.0 Error'), '4.3.0');
  assert.equal(findStatus('connect to 192.0.2.1:25 failed'), '');
  assert.equal(findReplyCode('Out: 250 2.1.5 Ok Out: 451 4.3.0 Error'), '451');
  assert.equal(findStatus('(#5.4.4)'), '5.4.4');
});

test('every status-table entry is a valid enhanced status code', () => {
  for (const code of Object.keys(STATUS_REASONS)) assert.match(code, /^[245]\.\d{1,3}\.\d{1,3}$/, code);
});
