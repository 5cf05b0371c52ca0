import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyMessage } from './classify.ts';
import { classifySmtpReply } from './smtp-reply.ts';
import { headlineReason } from './headline.ts';
import { parseMessage, decodeWords } from './mime.ts';

const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');

const POSTFIX_DSN = crlf(`From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
To: news@sender.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

<gone@rcpt.example>: host mx.rcpt.example[192.0.2.5] said: 550 5.1.1
    <gone@rcpt.example>: Recipient address rejected: User unknown in local
    recipient table (in reply to RCPT TO command)
<full@rcpt.example>: host mx.rcpt.example[192.0.2.5] said: 552 5.2.2 Mailbox full (in reply to RCPT TO command)

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example

Final-Recipient: rfc822; gone@rcpt.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@rcpt.example>: Recipient address
    rejected: User unknown in local recipient table

Final-Recipient: rfc822; full@rcpt.example
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full

--B1
Content-Type: message/rfc822

Message-ID: <m-1@sender.example>
From: news@sender.example
To: gone@rcpt.example
Subject: Statement

Hello
--B1--
`);

test('an RFC 3464 DSN gives every failed recipient with status, reply code and reason', () => {
  const r = classifyMessage(Buffer.from(POSTFIX_DSN));
  assert.equal(r.kind, 'bounce');
  assert.deepEqual(
    r.recipients.map((x) => [x.recipient, x.status, x.replyCode, x.reason, x.hardBounce]),
    [
      ['gone@rcpt.example', '5.1.1', '550', 'userunknown', true],
      ['full@rcpt.example', '5.2.2', '552', 'mailboxfull', false],
    ],
  );
  assert.equal(r.original?.messageId, '<m-1@sender.example>');
});

test('a qmail bounce in plain text is read without a DSN part', () => {
  const msg = `From: MAILER-DAEMON@q.example
To: sender@q.example
Subject: failure notice

Hi. This is the qmail-send program at q.example.
I'm afraid I wasn't able to deliver your message to the following addresses.

<nobody@far.example>:
192.0.2.9 does not like recipient.
Remote host said: 550 5.1.1 <nobody@far.example>... User Unknown

--- Below this line is a copy of the message.

From: sender@q.example
To: nobody@far.example
Subject: hi

hi
`;
  const r = classifyMessage(msg);
  assert.deepEqual(r.recipients.map((x) => [x.recipient, x.reason, x.hardBounce]), [['nobody@far.example', 'userunknown', true]]);
  // qmail's "does not like recipient" says the refusal came at RCPT TO: a 5.2.1 there is still an unknown user.
  const disabled = classifyMessage(msg.replace('550 5.1.1', '550 5.2.1'));
  assert.equal(disabled.recipients[0]?.reason, 'userunknown');
  const noStage = classifyMessage(msg.replace('550 5.1.1', '550 5.2.1').replace('192.0.2.9 does not like recipient.\n', ''));
  assert.equal(noStage.recipients[0]?.reason, 'filtered');
});

test('an ARF complaint gives feedback for each original recipient', () => {
  const msg = crlf(`From: fbl@isp.example
To: abuse@sender.example
Subject: complaint
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an abuse report.
--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: isp-fbl/1.0
Version: 1
Original-Rcpt-To: one@isp.example
Original-Rcpt-To: two@isp.example

--F
Content-Type: message/rfc822

From: news@sender.example
To: one@isp.example
Message-ID: <c-1@sender.example>

spam?
--F--
`);
  const r = classifyMessage(msg);
  assert.equal(r.kind, 'complaint');
  assert.deepEqual(r.recipients.map((x) => [x.recipient, x.reason, x.hardBounce, x.status]), [
    ['one@isp.example', 'feedback', false, ''],
    ['two@isp.example', 'feedback', false, ''],
  ]);
});

test('an RFC 3834 auto-reply is a vacation, not a bounce', () => {
  const msg = `From: Kim <kim@bank.example>
To: news@sender.example
Subject: Automatic reply: Statement
Auto-Submitted: auto-replied

I am out of the office until Monday.
`;
  const r = classifyMessage(msg);
  assert.equal(r.kind, 'autoreply');
  assert.deepEqual(r.recipients.map((x) => [x.recipient, x.reason, x.hardBounce]), [['kim@bank.example', 'vacation', false]]);
});

test('an ordinary message is not mistaken for a bounce', () => {
  const r = classifyMessage('From: a@b.example\nTo: c@d.example\nSubject: lunch?\n\nShall we meet at noon?\n');
  assert.equal(r.kind, 'unrecognised');
  assert.equal(r.recipients.length, 0);
});

test('a person\'s reply that names other addresses suppresses nobody', () => {
  const r = classifyMessage('From: Alice <alice@bank.example>\nTo: b-1xyz@bounces.news.example\nSubject: Re: your newsletter\n\nPlease write to bob@bank.example instead, or carol@bank.example.\n');
  assert.equal(r.kind, 'unrecognised');
  assert.deepEqual(r.recipients, []);
});

test('malformed input never throws and reports nothing it cannot see', () => {
  const inputs: (string | Buffer)[] = [
    '',
    '\r\n\r\n',
    'garbage without headers',
    'Content-Type: multipart/report; boundary="x"\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822;',
    'Content-Type: multipart/mixed; boundary=\n\n--\n--\n',
    Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x24, 0x42, 0x0a, 0x0a, 0x80]),
    'Content-Type: message/rfc822\n\n'.repeat(50),
    'Subject: =?x-unknown?B?!!!?=\nContent-Transfer-Encoding: base64\n\n@@@@',
  ];
  for (const input of inputs) {
    const r = classifyMessage(input);
    assert.ok(Array.isArray(r.recipients));
  }
});

test('runaway input (one enormous line, thousands of parts) is read only as far as it matters', () => {
  // These once took minutes (quadratic line lookups); they must finish like any other message.
  const line = classifyMessage('From: MAILER-DAEMON@x.example\nSubject: fail\n\n<u@x.example>: ' + 'lorem ipsum user@ex.example unknown '.repeat(60000));
  assert.ok(line.recipients.length >= 1);
  const parts = classifyMessage('Content-Type: multipart/mixed; boundary=b\n\n' + '--b\n\n'.repeat(100000));
  assert.equal(parts.recipients.length, 0);
  assert.equal(classifySmtpReply({ text: 'x'.repeat(1_000_000) }).reason, 'onhold');
});

test('MIME walker: unindented parameter folding and missing boundaries still yield the text', () => {
  const p = parseMessage('Content-Type: multipart/alternative;\nboundary="Q"\n\n--Q\nContent-Type: text/plain\n\nhello\n--Q--\n');
  assert.equal(p.params.boundary, 'Q');
  assert.equal(p.children.length, 1);
  const noBoundary = parseMessage('Content-Type: multipart/report; boundary="nowhere"\n\nplain body\n');
  assert.equal(noBoundary.children[0]?.rawBody.trim(), 'plain body');
  assert.equal(decodeWords('=?UTF-8?B?6YKu5Lu2?='), '邮件');
  assert.equal(decodeWords('=?gb2312?B?08q8/g==?='), '邮件');
});

test('classifySmtpReply uses the same rules as the DSN classifier', () => {
  assert.deepEqual(classifySmtpReply({ replyCode: 550, status: '5.1.1', text: '550 5.1.1 <a@b.example>: user unknown' }), { reason: 'userunknown', hardBounce: true, status: '5.1.1' });
  assert.deepEqual(classifySmtpReply({ replyCode: 452, text: '452 4.2.2 Mailbox full' }), { reason: 'mailboxfull', hardBounce: false, status: '4.2.2' });
  const blocked = classifySmtpReply({ text: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org' });
  assert.equal(blocked.reason, 'blocked');
  assert.equal(blocked.status, '5.7.1');
  const noStatus = classifySmtpReply({ replyCode: 421, text: 'Too many concurrent SMTP connections' });
  assert.deepEqual(noStatus, { reason: 'toomanyconn', hardBounce: false, status: '4.0.945' });
  assert.equal(classifySmtpReply({ replyCode: 250, text: '250 2.0.0 Ok: queued' }).reason, 'delivered');
  // An unexplained temporary refusal (greylisting) is not an expiry: only the queue expires mail.
  assert.deepEqual(classifySmtpReply({ replyCode: 451, text: '451 Please try again later' }), { reason: 'onhold', hardBounce: false, status: '4.0.901' });
  // The delivery engine passes null for what it does not know.
  assert.deepEqual(classifySmtpReply({ replyCode: null, status: null, text: '550 5.1.1 no such user' }), { reason: 'userunknown', hardBounce: true, status: '5.1.1' });
});

test('headline reasons for failure statistics', () => {
  assert.equal(headlineReason('userunknown'), 'user_unknown');
  assert.equal(headlineReason('hostunknown'), 'user_unknown');
  assert.equal(headlineReason('mailboxfull'), 'mailbox_full');
  assert.equal(headlineReason('filtered'), 'rejected');
  assert.equal(headlineReason('spamdetected'), 'rejected');
  assert.equal(headlineReason('expired'), 'other');
  assert.equal(headlineReason('no-such-reason'), 'other');
});

test('a report that names nobody fails the original\'s recipients, with nothing said about them: undefined', () => {
  const raw = `From: MAILER-DAEMON@mx.sender.example
To: news@sender.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

This is the mail system at host mx.sender.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

	--- Delivery report unavailable ---

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example

--b
Content-Type: message/rfc822

From: news@sender.example
To: reader@customer.example
Subject: Statement

hello
--b--
`;
  const r = classifyMessage(raw);
  assert.deepEqual(r.recipients.map((x) => [x.recipient, x.reason, x.hardBounce]), [['reader@customer.example', 'undefined', false]]);
});
