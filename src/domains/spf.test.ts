import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSpf } from './spf.ts';

const EXPECTED = 'v=spf1 ip4:192.0.2.10 ip6:2001:db8::1 include:_spf.fanout.example ~all';

function dns(records: Record<string, string>) {
  const asked: string[] = [];
  const lookup = async (name: string) => {
    asked.push(name);
    if (name === 'broken.example') throw Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' });
    const v = records[name];
    if (v === undefined) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    return [[v]];
  };
  return { lookup, asked };
}

test('the Fanout mechanisms written out, or covered by ranges, pass', async () => {
  const { lookup, asked } = dns({});
  assert.equal((await checkSpf(EXPECTED, ['v=spf1 mx +ip4:192.0.2.10/32 ip6:2001:db8::1 include:_spf.fanout.example -all'], lookup)).status, 'ok');
  assert.equal((await checkSpf(EXPECTED, ['v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_SPF.fanout.example ~all'], lookup)).status, 'ok');
  assert.deepEqual(asked, [], 'nothing to follow when the record itself authorises');
});

test('mechanisms reached through include and redirect chains count', async () => {
  const { lookup } = dns({
    '_spf.bank.example': 'v=spf1 include:_netblocks.bank.example redirect=_more.bank.example',
    '_netblocks.bank.example': 'v=spf1 ip4:192.0.2.0/25 ~all',
    '_more.bank.example': 'v=spf1 ip6:2001:db8::/48 include:_spf.fanout.example -all',
  });
  const r = await checkSpf(EXPECTED, ['v=spf1 include:_spf.bank.example ~all'], lookup);
  assert.deepEqual(r, { status: 'ok', message: 'SPF authorises Fanout' });
});

test('what does not authorise is named: failing qualifiers, loops, broken includes, the look-up limit', async () => {
  const chain: Record<string, string> = {};
  for (let i = 0; i < 12; i++) chain[`l${i}.example`] = i === 11 ? 'v=spf1 ip4:192.0.2.10 ip6:2001:db8::1 include:_spf.fanout.example' : `v=spf1 include:l${i + 1}.example`;
  const { lookup, asked } = dns({ ...chain, 'loop-a.example': 'v=spf1 include:loop-b.example', 'loop-b.example': 'v=spf1 include:loop-a.example' });
  const deep = await checkSpf(EXPECTED, ['v=spf1 include:l0.example ~all'], lookup);
  assert.equal(deep.status, 'mismatch');
  assert.equal(asked.length, 10, 'SPF allows ten look-ups');
  const denied = await checkSpf(EXPECTED, ['v=spf1 -ip4:192.0.2.10 ?ip6:2001:db8::1 include:_spf.fanout.example ~all'], lookup);
  assert.equal(denied.message, 'the SPF record does not authorise Fanout: add ip4:192.0.2.10 ip6:2001:db8::1');
  const loop = await checkSpf(EXPECTED, ['v=spf1 include:loop-a.example include:broken.example include:_spf.fanout.example ~all'], lookup);
  assert.equal(loop.message, 'the SPF record does not authorise Fanout: add ip4:192.0.2.10 ip6:2001:db8::1');
  const narrow = await checkSpf(EXPECTED, ['v=spf1 ip4:192.0.2.128/25 ip6:2001:db9::/32 include:_spf.fanout.example ~all'], lookup);
  assert.equal(narrow.status, 'mismatch');
});

test('a failing include ends the search: no waiting on a broken server include after include', async () => {
  const { lookup, asked } = dns({ 'ok.example': 'v=spf1 ip4:192.0.2.10 ip6:2001:db8::1 include:_spf.fanout.example' });
  const r = await checkSpf(EXPECTED, ['v=spf1 include:broken.example include:ok.example ~all'], lookup);
  assert.equal(r.status, 'mismatch');
  assert.deepEqual(asked, ['broken.example']);
});

test('no record, two records, +all', async () => {
  const { lookup } = dns({});
  assert.equal((await checkSpf(EXPECTED, ['google-site-verification=x'], lookup)).status, 'missing');
  assert.match((await checkSpf(EXPECTED, ['v=spf1 -all', 'v=spf1 mx -all'], lookup)).message, /2 SPF records/);
  assert.match((await checkSpf(EXPECTED, ['v=spf1 ip4:192.0.2.10 ip6:2001:db8::1 include:_spf.fanout.example +all'], lookup)).message, /\+all/);
});
