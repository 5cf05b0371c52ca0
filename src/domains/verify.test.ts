import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { dnsRecords } from './records.ts';
import { checkRecords, defaultResolver, summarise } from './verify.ts';

const domain = { domain: 'bank.example', returnPathDomain: 'bounces.bank.example', dkimSelector: 'fo202611', dkimPublicKey: 'AAAA' };

test('node\'s resolver against a DNS server that never answers: every record lookup_failed, quickly, no exception', async () => {
  // A UDP socket on loopback that swallows queries: what a machine with a dead resolver sees.
  const sink = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
  try {
    const started = Date.now();
    const resolver = defaultResolver(300, [`127.0.0.1:${sink.address().port}`]);
    const checks = await checkRecords(dnsRecords(domain, { mxHost: 'mx.fanout.example' }), resolver);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.deepEqual(checks.map((c) => c.status), ['lookup_failed', 'lookup_failed', 'lookup_failed', 'lookup_failed', 'lookup_failed']);
    for (const c of checks) assert.match(c.error!, /ETIMEOUT|timed out|ECONNREFUSED/i);
    const report = summarise('dm_x', 'bank.example', checks, Date.now());
    assert.equal(report.status, 'lookup_failed');
    assert.equal(report.verified, false);
  } finally {
    sink.close();
  }
});

test('what DNS answered is kept bounded in the report', async () => {
  const junk = Array.from({ length: 30 }, (_, i) => [`junk-${i}-${'x'.repeat(5000)}`]);
  const resolver = { resolveTxt: async () => junk, resolveMx: async () => [] };
  const checks = await checkRecords(dnsRecords(domain, { mxHost: 'mx.fanout.example' }), resolver);
  const spf = checks.find((c) => c.purpose === 'spf')!;
  assert.equal(spf.status, 'missing');
  assert.equal(spf.found.length, 10);
  assert.ok(spf.found.every((f) => f.length <= 1025));
  assert.equal(checks.find((c) => c.purpose === 'return_path_mx')?.status, 'missing');
});
