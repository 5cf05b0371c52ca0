import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MICROSOFT_REPLIES, microsoftReply } from './microsoft-replies.ts';
import { decideReason } from './reason.ts';
import type { Finding } from './types.ts';

const statusOf = (r: (typeof MICROSOFT_REPLIES)[number]) => (r.from === undefined ? r.status : `${r.status}${r.to ?? r.from}`);

test('every entry of Exchange Online\'s list names its reason for its code and sentence (unless an earlier entry says the same words for the same code)', () => {
  MICROSOFT_REPLIES.forEach((r, i) => {
    const status = statusOf(r);
    const got = microsoftReply(status, `550 ${status} ${r.phrase} [bl2nam02.prod.outlook.com]`);
    const earlier = MICROSOFT_REPLIES.slice(0, i).some((e) => microsoftReply(status, e.phrase) !== undefined && r.phrase.includes(e.phrase));
    assert.ok(got === r.reason || earlier, `${status} ${r.phrase}: ${got}`);
  });
});

test('a range entry holds for its whole range and not beyond', () => {
  assert.equal(microsoftReply('5.7.606', 'access denied, banned sending ip [192.0.2.1]'), 'blocked');
  assert.equal(microsoftReply('5.7.649', 'access denied, banned sending ip [192.0.2.1]'), 'blocked');
  assert.equal(microsoftReply('5.7.650', 'access denied, banned sending ip [192.0.2.1]'), undefined);
});

function finding(over: Partial<Finding>): Finding {
  return { recipient: 'neko@example.com', status: '', replyCode: '550', action: 'failed', diagnostic: '', context: '', remoteHost: '', command: 'RCPT', diagnosticType: 'smtp', ...over };
}

test("the list is read for Exchange Online's own hosts only", () => {
  const f = { status: '5.2.2', diagnostic: '550 5.2.2 Submission quota exceeded' };
  assert.equal(decideReason(finding({ ...f, remoteHost: 'mail-bl2nam02.protection.outlook.com' })), 'speeding');
  assert.equal(decideReason(finding({ ...f, remoteHost: 'mx.example.com' })), 'mailboxfull');
});
