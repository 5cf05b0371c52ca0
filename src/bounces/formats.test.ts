import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyMessage } from './classify.ts';

// Shapes of bounces the corpus has few of: Chinese enterprise mail systems (Coremail-style
// Chinese reports), Office 365, QQ and NetEase as relayed by Postfix.
const coremail = `From: postmaster@bank.example
To: news@sender.example
Subject: =?UTF-8?B?57O757uf6YCA5L+h?=
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

很抱歉您发送的邮件被退回，以下是该邮件的相关信息：

被退回的邮件：
主题: 对账单
收件人: zhang.san@bank.example

退信原因：收件人不存在 (550 5.1.1 User not found)

----- 原始邮件 -----
From: news@sender.example
To: zhang.san@bank.example
Subject: 对账单
`;
const o365 = `From: Microsoft Outlook <postmaster@contoso.example>
To: news@sender.example
Subject: Undeliverable: Statement
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain; charset=us-ascii

Your message to lee@contoso.example couldn't be delivered.
lee wasn't found at contoso.example.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns;BN8PR.prod.outlook.com
Received-From-MTA: dns;x.example

Final-Recipient: rfc822;lee@contoso.example
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient lee@contoso.example not found by SMTP address lookup

--b--
`;
const qq = `From: MAILER-DAEMON@sender.example (Mail Delivery System)
To: news@sender.example
Subject: Undelivered Mail Returned to Sender

<wang@qq.com>: host mx3.qq.com[203.205.219.57] said: 550 Mailbox not found.
    http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728
    (in reply to RCPT TO command)
`;
const netease = `From: MAILER-DAEMON@sender.example (Mail Delivery System)
To: news@sender.example
Subject: Undelivered Mail Returned to Sender

<li@163.com>: host 163mx01.mxmail.netease.com[220.181.14.141] said: 554 DT:SPM
    163 mx14,QMCowECpG3x, Mail content denied. http://mail.163.com/help/help_spam_16.htm
    (in reply to end of DATA command)
`;

const cases: [string, string, [string, string, string, string, boolean]][] = [
  ['a Chinese-language report', coremail, ['zhang.san@bank.example', '5.1.1', '550', 'userunknown', true]],
  ['an Office 365 DSN', o365, ['lee@contoso.example', '5.1.10', '550', 'userunknown', true]],
  ['QQ mailbox not found', qq, ['wang@qq.com', '5.0.911', '550', 'userunknown', true]],
  ['NetEase spam tag', netease, ['li@163.com', '5.0.980', '554', 'spamdetected', false]],
];

for (const [name, message, expected] of cases) {
  test(name, () => {
    const r = classifyMessage(message);
    assert.equal(r.kind, 'bounce');
    assert.deepEqual(r.recipients.map((x) => [x.recipient, x.status, x.replyCode, x.reason, x.hardBounce]), [expected]);
  });
}

// A mailbox file holding a bounce and the copy the reporting server sent to its postmaster:
// each message is read, and the recipient is reported once per bounce.
const postfixBounce = (to: string, subject: string) => `Date: Mon,  6 Jan 2025 10:00:00 +0000 (UTC)
From: MAILER-DAEMON@relay.sender.example (Mail Delivery System)
Subject: ${subject}
To: ${to}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1.relay"

--B1.relay
Content-Type: text/plain

<kim@mailbox.example>: host mx.mailbox.example[192.0.2.7] said: 550 5.1.1
    <kim@mailbox.example>: Recipient address rejected: User unknown (in reply to RCPT TO command)

--B1.relay
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.sender.example

Final-Recipient: rfc822; kim@mailbox.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.mailbox.example
Diagnostic-Code: smtp; 550 5.1.1 <kim@mailbox.example>: Recipient address rejected: User unknown

--B1.relay--
`;
const mailbox = `From MAILER-DAEMON  Mon Jan  6 10:00:00 2025\n${postfixBounce('news@sender.example', 'Undelivered Mail Returned to Sender')}From double-bounce@relay.sender.example  Mon Jan  6 10:00:00 2025\n${postfixBounce('postmaster@sender.example', 'Postmaster Copy: Undelivered Mail')}`;

test('a mailbox of two copies of one bounce gives the recipient once per copy', () => {
  const r = classifyMessage(mailbox);
  assert.equal(r.kind, 'bounce');
  assert.deepEqual(r.recipients.map((x) => [x.recipient, x.reason]), [['kim@mailbox.example', 'userunknown'], ['kim@mailbox.example', 'userunknown']]);
  // A single message that merely quotes a "From " line in its body is not split.
  assert.equal(classifyMessage(postfixBounce('news@sender.example', 'Undelivered')).recipients.length, 1);
});

// Sendmail V5-style report: the summary line names a generic error and a later deferral, the
// transcript holds what the remote server actually answered to MAIL FROM.
const transcript = `From: Mail Delivery Subsystem <MAILER-DAEMON@relay.sender.example>
To: news@sender.example
Subject: Returned mail: Remote protocol error

   ----- Transcript of session follows -----
While talking to mx.campus.example:
>>> MAIL From:<news@sender.example>
<<< 553 Relaying denied for this sender
554 <lee@campus.example>... Remote protocol error
421 other.example (smtp)... Deferred: Connection timed out during user open with other.example

   ----- Unsent message follows -----
From: news@sender.example
To: lee@campus.example
Subject: Notes
`;

test('a session transcript: the remote answer decides over the summary lines', () => {
  const r = classifyMessage(transcript);
  assert.deepEqual(r.recipients.map((x) => [x.recipient, x.reason]), [['lee@campus.example', 'norelaying']]);
});

// Microsoft's complaint reports (JMRP) are a multipart/mixed message with the original enclosed.
const jmrp = `From: <staff@hotmail.com>
To: abuse@sender.example
Subject: complaint about message from 192.0.2.22
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="j"

--j
Content-Type: message/rfc822
Content-Disposition: inline

X-HmXmrOriginalRecipient: reader@customer.example
From: News <news@sender.example>
To: someone-else@customer.example
Subject: Statement
Message-ID: <m1@sender.example>

hello
--j--
`;

test('a Microsoft complaint (JMRP) names the recipient from X-HmXmrOriginalRecipient', () => {
  const r = classifyMessage(jmrp);
  assert.equal(r.kind, 'complaint');
  assert.deepEqual(r.recipients.map((x) => [x.recipient, x.reason]), [['reader@customer.example', 'feedback']]);
  assert.equal(r.original?.messageId, '<m1@sender.example>');
});

test('the same shape from anyone else is no complaint', () => {
  const r = classifyMessage(jmrp.replace('<staff@hotmail.com>', '<someone@elsewhere.example>'));
  assert.notEqual(r.kind, 'complaint');
});
