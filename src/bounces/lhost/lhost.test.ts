import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { header, headerAll, parseMessage } from '../mime.ts';
import { reportText } from '../extract/text.ts';
import { decideReason } from '../reason.ts';
import type { Finding } from '../types.ts';
import { CORPUS_DIR } from '../corpus.ts';
import { LHOSTS, detectLhost, readByLhost } from './index.ts';
import type { BounceMail, Lhost, LhostInput } from './index.ts';
import { OFFICE365_STATUSES } from './microsoft.ts';

function mail(over: Partial<Omit<BounceMail, 'header'>> & { headers?: Record<string, string> } = {}): BounceMail {
  const headers = over.headers ?? {};
  return { subject: over.subject ?? '', from: over.from ?? '', received: over.received ?? [], report: over.report ?? '', header: (n) => headers[n] ?? '' };
}

function input(diagnostic: string, over: Partial<LhostInput> = {}): LhostInput {
  return { recipient: 'kijitora@example.jp', status: '', replyCode: '', command: '', diagnostic, ...over };
}

function byName(name: string): Lhost {
  const l = LHOSTS.find((x) => x.name === name);
  assert.ok(l, name);
  return l;
}

// Every sentence in every reader's table names its reason when an MTA writes it inside a
// longer line, and no earlier sentence of the same reader shadows it.
for (const lhost of LHOSTS) {
  for (const rule of lhost.messages ?? []) {
    test(`${lhost.name}: "${rule.phrases[0]}"${rule.phrases.length > 1 ? ` and ${rule.phrases.length - 1} more` : ''} mean ${rule.reason}`, () => {
      for (const phrase of rule.phrases) {
        const said = readByLhost(lhost, input(`550 <kijitora@example.jp>:  ${phrase.toUpperCase()}  (#5.0.0)`), mail());
        assert.equal(said.reason, rule.reason, phrase);
      }
    });
  }
}

/** A status that the rule's pattern matches: each character class by its first member, \d by 0. */
function exampleOf(pattern: string): string {
  return pattern.replace(/\[(.)[^\]]*\]/g, '$1').replace(/\\d/g, '0').replace(/\\\./g, '.');
}

for (const rule of OFFICE365_STATUSES) {
  test(`Office365: ${exampleOf(rule.status)} means ${rule.reason}`, () => {
    const status = exampleOf(rule.status);
    assert.equal(readByLhost(byName('Office365'), input(`550 ${status} nothing more`, { status }), mail()).reason, rule.reason);
  });
}

test('qmail: the stage sentence names the command, a refused HELO is blocked', () => {
  const q = byName('qmail');
  assert.deepEqual(readByLhost(q, input('Connected to 192.0.2.1 but my name was rejected. Remote host said: 550 go away'), mail()), { command: 'HELO', reason: 'blocked' });
  assert.equal(readByLhost(q, input('192.0.2.1 does not like recipient. Remote host said: 550 5.1.1 no'), mail()).command, 'RCPT');
  assert.equal(readByLhost(q, input('Connected to 192.0.2.1 but sender was rejected.'), mail()).command, 'MAIL');
});

test('qmail: "most progress was RCPT TO response" names RCPT, and the words then decide', () => {
  const said = readByLhost(byName('qmail'), input('Sorry, no SMTP connection got far enough; most progress was RCPT TO response; remote host said: 550 Unknown user x'), mail());
  assert.equal(said.command, 'RCPT');
  assert.equal(said.reason, undefined);
});

test('qmail: a recipient refused and then too long in the queue is left undecided; too long alone is expired', () => {
  const q = byName('qmail');
  assert.equal(readByLhost(q, input('192.0.2.1 does not like recipient. I\'m not going to try again; this message has been in the queue too long.'), mail()).reason, 'onhold');
  assert.equal(readByLhost(q, input('I\'m not going to try again; this message has been in the queue too long.'), mail()).reason, 'expired');
});

test('Gmail: the (state N) number names stage and reason; a specific status in the reply says more', () => {
  const g = byName('Gmail');
  assert.deepEqual(readByLhost(g, input('The error that the other server returned was: 500 Remote server does not support TLS (state 6).'), mail()), { command: 'MAIL', reason: 'systemerror' });
  assert.equal(readByLhost(g, input('550 550 5.2.2 <x@example.jp>... Mailbox Full (state 14).', { status: '5.2.2' }), mail()).reason, 'mailboxfull');
  assert.equal(readByLhost(g, input('554 554 5.7.0 Header error (state 18).', { status: '5.7.0' }), mail()).reason, 'filtered');
});

test('Exim: refused at HELO is blocked, at MAIL FROM undecided, retry timeout expired', () => {
  const e = byName('Exim');
  assert.deepEqual(readByLhost(e, input('SMTP error from remote mail server after EHLO example.org: 550 go away'), mail()), { command: 'HELO', reason: 'blocked' });
  assert.equal(readByLhost(e, input('SMTP error from remote mail server after MAIL FROM:<a@b.example> SIZE=1: 550 Unroutable sender'), mail()).reason, 'onhold');
  assert.equal(readByLhost(e, input('retry timeout exceeded'), mail()).reason, 'expired');
  assert.equal(readByLhost(e, input('SMTP error from remote mail server after RCPT TO:<x@y.example>: 550 no'), mail()).command, 'RCPT');
});

test('Google Groups: the four "* ..." lines are the group refusing the sender; anything else is left to the words', () => {
  const g = byName('GoogleGroups');
  const four = 'the group you tried to contact may not exist\n * a\n * b\n * c\n * d\n';
  assert.equal(readByLhost(g, input(four), mail({ report: four })).reason, 'rejected');
  assert.equal(readByLhost(g, input('rejected due to spam classification'), mail({ report: ' * one\n * two\n' })).reason, 'onhold');
});

test('Zoho: the error is on the "[Status: ..." line that names the recipient', () => {
  const report = 'This message was created automatically by mail delivery system.\n[Status: Error, Address: <kijitora@example.jp>, ResponseCode 421, , Host not reachable.]\n';
  assert.equal(byName('Zoho').diagnostic?.(report, 'kijitora@example.jp'), '[Status: Error, Address: <kijitora@example.jp>, ResponseCode 421, , Host not reachable.]');
  assert.equal(byName('Zoho').diagnostic?.(report, 'other@example.jp'), '');
});

test('FML: the subject says what the body may not', () => {
  assert.equal(readByLhost(byName('FML'), input('nothing here'), mail({ subject: 'NOT MEMBER article from neko@example.jp' })).reason, 'rejected');
});

test('Exchange 2003: the hexadecimal code names the reason', () => {
  assert.equal(readByLhost(byName('Exchange2003'), input('The recipient name is not recognized MSEXCH:IMS (000C05A6) Unknown Recipient'), mail()).reason, 'userunknown');
});

test('X3: "SMTP:RCPT host ..." names the command', () => {
  assert.equal(readByLhost(byName('X3'), input('Technical details: SMTP:RCPT host 192.0.2.1: 553 5.3.0 no such user'), mail()).command, 'RCPT');
});

test('a message that names no MTA family is read by no reader', () => {
  assert.equal(detectLhost(mail({ subject: 'hello', from: 'a person <p@example.org>', report: 'see you tomorrow' })), undefined);
});

// Detection, on the real bounces of the shared corpus: each family with samples there is
// recognised in at least one of them, and recognised as itself rather than as a neighbour.
const FILE_PREFIX: Record<string, string> = {
  qmail: 'lhost-qmail', Exim: 'lhost-exim', OpenSMTPD: 'lhost-opensmtpd', Zoho: 'lhost-zoho', Outlook: 'lhost-outlook', Exchange2003: 'lhost-exchange2003',
  Exchange2007: 'lhost-exchange2007', Gmail: 'lhost-gmail', GoogleGroups: 'lhost-googlegroups', MailRu: 'lhost-mailru', EZweb: 'lhost-ezweb', KDDI: 'lhost-kddi',
  X3: 'lhost-x3', Domino: 'lhost-domino', Notes: 'lhost-notes', Courier: 'lhost-courier', MessagingServer: 'lhost-messagingserver', DragonFly: 'lhost-dragonfly',
  IMailServer: 'lhost-imailserver', FML: 'lhost-fml',
};

function mailOf(file: string): BounceMail {
  const root = parseMessage(fs.readFileSync(file));
  return {
    subject: header(root.headers, 'subject') ?? '',
    from: header(root.headers, 'from') ?? '',
    received: headerAll(root.headers, 'received'),
    header: (n) => header(root.headers, n) ?? '',
    report: reportText(root).report,
  };
}

test('each MTA family is recognised in its own real bounces', () => {
  const dir = path.join(CORPUS_DIR, 'maildir');
  const files = fs.readdirSync(dir);
  for (const [name, prefix] of Object.entries(FILE_PREFIX)) {
    const own = files.filter((f) => f.startsWith(`${prefix}-`));
    if (own.length === 0) continue;
    const found = own.map((f) => detectLhost(mailOf(path.join(dir, f)))?.name);
    assert.ok(found.includes(name), `${name}: recognised in none of ${own.length} (${found.join(', ')})`);
    const share = found.filter((n) => n === name).length / own.length;
    assert.ok(share >= 0.5, `${name}: recognised in ${(share * 100).toFixed(0)} % of its bounces (${found.join(', ')})`);
  }
});

function finding(over: Partial<Finding>): Finding {
  return { recipient: 'kijitora@example.jp', status: '', replyCode: '', action: 'failed', diagnostic: '', context: '', remoteHost: '', command: '', diagnosticType: 'smtp', ...over };
}

test("the writer's own definite reason stands over the general phrases", () => {
  // "Blocked using" would be blocked from anyone; Microsoft 365's 5.6.11 says the content was at fault.
  assert.equal(decideReason(finding({ status: '5.6.11', diagnostic: '550 5.6.11 invalid characters, message blocked using content rules', lhost: 'Office365', lhostReason: 'contenterror' })), 'contenterror');
  assert.equal(decideReason(finding({ diagnostic: 'Mail size limit exceeded', lhost: 'EinsUndEins', lhostReason: 'mesgtoobig' })), 'mesgtoobig');
});

test("a vague reason from the writer gives way to a reason before it in the first pass, and otherwise stands", () => {
  // qmail's "does not like recipient" over a full mailbox: the mailbox is full.
  assert.equal(decideReason(finding({ status: '5.2.2', command: 'RCPT', diagnostic: 'does not like recipient. 552 5.2.2 mailbox full', lhostReason: 'userunknown' })), 'mailboxfull');
  assert.equal(decideReason(finding({ status: '4.4.1', diagnostic: "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)", lhostReason: 'networkerror' })), 'networkerror');
  // A temporary DNS answer the writer called a network error is not a missing domain.
  assert.equal(decideReason(finding({ status: '4.0.0', diagnostic: 'DNS Error: lookup responded with code NXDOMAIN Domain name not found', lhostReason: 'networkerror' })), 'networkerror');
});

test('a writer that leaves the failure undecided leaves it to the whole procedure', () => {
  assert.equal(decideReason(finding({ command: 'MAIL', diagnostic: '550 5.1.8 sender address rejected', status: '5.1.8', lhostReason: 'onhold' })), 'rejected');
});

test('Amazon SES: the code inside the quoted remote reply replaces its own generic x.1.0', () => {
  const said = readByLhost(byName('AmazonSES'), input("5.1.0 - Unknown address error 550-'5.7.1 <x@example.jp>: Recipient address rejected: Access denied' (delivery attempts: 0)", { status: '5.1.0' }), mail());
  assert.equal(said.status, '5.7.1');
  assert.equal(readByLhost(byName('AmazonSES'), input('550 5.1.1 user unknown', { status: '5.1.1' }), mail()).status, undefined);
});

test('Amazon WorkMail: the reported status names the reason', () => {
  assert.equal(readByLhost(byName('AmazonWorkMail'), input('550 5.2.2 mailbox full', { status: '5.2.2' }), mail()).reason, 'mailboxfull');
});
