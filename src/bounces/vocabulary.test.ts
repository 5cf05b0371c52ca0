import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchText } from './reason.ts';
import { VOCABULARY } from './vocabulary.ts';

/** A sentence a server could write for `pattern`: the filled-in parts become an address or a dash. */
function sentenceFor(pattern: string): string {
  return pattern
    .replace(/\(\?<![^)]*\)/g, '')
    .replace(/\.\{0,120\}\?/g, ' neko@example.jp ')
    .replace(/\.\{0,3\}|\.\?/g, '-')
    .replace(/\\(.)/g, '$1');
}

// Each sentence of the vocabulary, said inside a real-looking reply, names its reason: no rule
// before it in the precedence takes it, and its own pattern matches what it describes.
for (const rule of VOCABULARY) {
  test(`vocabulary: ${rule.patterns.length} sentences mean ${rule.reason}`, () => {
    for (const pattern of rule.patterns) {
      const said = `550 5.0.0 <kijitora@example.jp>: ${sentenceFor(pattern).toUpperCase()} (in reply to end of DATA command)`;
      assert.equal(matchText(said)?.reason, rule.reason, `${pattern} → ${said}`);
    }
  });
}

test('"address rejected" is not the rejected sender when it is the recipient, the sending IP or a 5.1.0 mailbox code', () => {
  assert.equal(matchText('550 the address rejected here: neko@example.jp')?.reason, 'rejected');
  assert.notEqual(matchText('550 #5.1.0 Address rejected.')?.reason, 'rejected');
  assert.notEqual(matchText('554 5.7.1 Recipient address rejected: go figure')?.reason, 'rejected');
});
