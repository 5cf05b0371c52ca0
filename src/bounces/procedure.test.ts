import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideByProcedure, statusName } from './procedure.ts';
import { preferStatus } from './reason.ts';
import type { Evidence } from './procedure.ts';
import { PROCEDURE, STATUS_NAMES } from './rules.ts';
import { REASONS } from './types.ts';

function ev(over: Partial<Evidence>): Evidence {
  return { status: '', replyCode: '', diagnostic: '', diagnosticType: 'smtp', action: 'failed', command: '', ...over };
}

// One case per step of the procedure, each in the words real servers use.
const CASES: [string, Partial<Evidence>, string][] = [
  ['a 2.x.x status is a delivery', { status: '2.1.5' }, 'delivered'],
  ['refused at the greeting: the sending host is blocked, whatever the words', { command: 'HELO', status: '5.0.0', diagnostic: '501 5.0.0 invalid domain name' }, 'blocked'],
  ['a rate limit at the greeting stays a rate limit', { command: 'CONN', replyCode: '421', diagnostic: '421 too many concurrent smtp connections' }, 'toomanyconn'],
  ['mailbox full by status', { status: '4.2.2', diagnostic: '452 4.2.2 over quota' }, 'mailboxfull'],
  ['mailbox full needs a code: words alone in an uncoded report do not claim it first', { diagnostic: 'mailbox full' }, 'mailboxfull'],
  ['message too big by status', { status: '5.3.4', diagnostic: '552 5.3.4 message size exceeds fixed maximum' }, 'mesgtoobig'],
  ['5.2.3 is a size limit of the account, not a message too big', { status: '5.2.3', diagnostic: '552 5.2.3 message size exceeds' }, 'exceedlimit'],
  ['suspend by reply code 525', { status: '5.7.13', replyCode: '525', diagnostic: '525 5.7.13 user account disabled' }, 'suspend'],
  ['relaying denied', { status: '5.7.1', command: 'RCPT', diagnostic: '554 5.7.1 <x@y.example>: relay access denied' }, 'norelaying'],
  ['a bad-mailbox status is user unknown', { status: '5.1.1', command: 'RCPT', diagnostic: '550 5.1.1 user unknown' }, 'userunknown'],
  ['a bad-mailbox status whose words say relaying is not user unknown', { status: '5.1.1', diagnostic: '550 5.1.1 relaying denied' }, 'norelaying'],
  ['user-unknown words at RCPT TO with a vague status', { status: '5.0.0', command: 'RCPT', diagnostic: '550 no such user here' }, 'userunknown'],
  ['user-unknown words after DATA come from a filter', { status: '5.0.0', command: 'DATA', diagnostic: '550 no such user here' }, 'filtered'],
  ['a disabled-mailbox status (5.2.1) with user-unknown words is a filter', { status: '5.2.1', diagnostic: '550 5.2.1 user unknown' }, 'filtered'],
  ['refused at MAIL FROM with sender words: rejected', { status: '5.0.0', command: 'MAIL', diagnostic: '553 sender address rejected: domain not found' }, 'rejected'],
  ['a bad-sender status is rejected', { status: '5.1.8', diagnostic: '553 5.1.8 sender domain does not exist' }, 'rejected'],
  ['an unroutable domain by status, unless the words say the network failed', { status: '5.4.4', diagnostic: 'host or domain name not found' }, 'hostunknown'],
  ['spam words after DATA', { status: '5.0.0', command: 'DATA', diagnostic: '550 spam detected in the message body' }, 'spamdetected'],
  ['spam words at RCPT TO are not a content verdict', { status: '5.0.0', command: 'RCPT', diagnostic: '550 you are sending spam, blocked using zen.spamhaus.org' }, 'blocked'],
  ['a specific status decides when no phrase of the first pass speaks', { status: '5.3.2', diagnostic: '550 5.3.2 nope' }, 'notaccept'],
  ['a vague status lets the second pass phrases speak', { status: '5.7.1', diagnostic: '554 5.7.1 virus found in attachment' }, 'virusdetected'],
  ['a vague status stands when no phrase speaks', { status: '4.4.7', diagnostic: '' }, 'expired'],
  ['the status class x.6 is a content error', { status: '5.6.99', diagnostic: '554 nothing known' }, 'contenterror'],
  ['the status class x.7 is a security error', { status: '5.7.99', diagnostic: '554 nothing known' }, 'securityerror'],
  ['a mailer program\'s own diagnostic', { status: '5.0.0', diagnosticType: 'x-unix', diagnostic: 'exit 75' }, 'mailererror'],
  ['a 50x reply to a command the server could not parse', { replyCode: '503', diagnostic: '503 bad sequence' }, 'syntaxerror'],
  ['a delay with nothing else said', { action: 'delayed', diagnostic: 'nothing' }, 'expired'],
  ['nothing known at all', { diagnostic: 'the moon is made of cheese' }, ''],
];

for (const [name, over, expected] of CASES) {
  test(`procedure: ${name}`, () => {
    assert.equal(decideByProcedure(ev(over)), expected);
  });
}

test('every status name and every reason in the procedure is a known reason', () => {
  const known = new Set<string>(REASONS);
  for (const [code, reason] of Object.entries(STATUS_NAMES)) {
    assert.match(code, /^[45]\.\d{1,3}\.\d{1,3}$/);
    assert.ok(known.has(reason), `${code} → ${reason}`);
  }
  for (const list of [PROCEDURE.firstPass, PROCEDURE.secondPass, PROCEDURE.retry, PROCEDURE.userunknownUnless]) for (const r of list) assert.ok(known.has(r), r);
  assert.equal(statusName('5.1.1'), 'userunknown');
  assert.equal(statusName('5.0.0'), '');
});

test('the DSN Status field gives way to the reply\'s own code only when the field is the vaguer one', () => {
  assert.equal(preferStatus('5.0.0', '5.1.1'), '5.1.1');
  assert.equal(preferStatus('5.1.0', '5.7.1'), '5.7.1');
  assert.equal(preferStatus('4.4.7', '4.7.1'), '4.7.1');
  assert.equal(preferStatus('5.3.0', '5.2.2'), '5.2.2');
  assert.equal(preferStatus('5.1.1', '5.7.1'), '5.7.1');
  assert.equal(preferStatus('5.1.1', '5.1.0'), '5.1.1');
  assert.equal(preferStatus('5.2.2', '5.0.0'), '5.2.2');
  assert.equal(preferStatus('5.2.2', '5.7.1'), '5.2.2');
  // A temporary field over a permanent quoted reply is another attempt's code: the field stands.
  assert.equal(preferStatus('4.5.0', '5.5.0'), '4.5.0');
  assert.equal(preferStatus('', '5.1.1'), '5.1.1');
  assert.equal(preferStatus('5.1.1', ''), '5.1.1');
});
