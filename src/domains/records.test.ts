import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordOptionsFromConfig } from './config.ts';
import { dnsRecords, txtStrings, zoneFileLine } from './records.ts';
import type { DomainForRecords } from './records.ts';

const key = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' + 'x'.repeat(348);
const domain: DomainForRecords = { domain: 'bank.example', returnPathDomain: 'bounces.bank.example', dkimSelector: 'fo202611', dkimPublicKey: key };

test('records for sending IPs and an include', () => {
  const records = dnsRecords(domain, { mxHost: 'mx.fanout.bank.example.', sendingIps: ['192.0.2.10', '2001:db8::1'], spfInclude: '_spf.bank.example', dmarcRua: 'mailto:dmarc@bank.example' });
  const by = Object.fromEntries(records.map((r) => [r.purpose, r]));
  assert.deepEqual(records.map((r) => r.purpose), ['spf', 'dkim', 'dmarc', 'return_path_mx', 'return_path_spf']);
  assert.deepEqual(by.spf, { ...by.spf, type: 'TXT', name: 'bank.example', value: 'v=spf1 a mx ip4:192.0.2.10 ip6:2001:db8::1 include:_spf.bank.example ~all', required: false });
  assert.equal(by.dkim?.name, 'fo202611._domainkey.bank.example');
  assert.equal(by.dkim?.value, `v=DKIM1; k=rsa; p=${key}`);
  assert.equal(by.dmarc?.name, '_dmarc.bank.example');
  assert.equal(by.dmarc?.value, 'v=DMARC1; p=none; rua=mailto:dmarc@bank.example');
  assert.deepEqual([by.return_path_mx?.type, by.return_path_mx?.name, by.return_path_mx?.value, by.return_path_mx?.priority], ['MX', 'bounces.bank.example', 'mx.fanout.bank.example', 10]);
  assert.equal(by.return_path_spf?.name, 'bounces.bank.example');
  assert.equal(by.return_path_spf?.value, 'v=spf1 ip4:192.0.2.10 ip6:2001:db8::1 include:_spf.bank.example ~all');
});

test('without sending IPs the Fanout host itself is authorised; DMARC reports go to postmaster', () => {
  const by = Object.fromEntries(dnsRecords(domain, { mxHost: 'fanout.bank.example' }).map((r) => [r.purpose, r]));
  assert.equal(by.spf?.value, 'v=spf1 a mx a:fanout.bank.example ~all');
  assert.equal(by.return_path_spf?.value, 'v=spf1 a:fanout.bank.example ~all');
  assert.equal(by.dmarc?.value, 'v=DMARC1; p=none; rua=mailto:postmaster@bank.example');
});

test('bad record options are refused', () => {
  assert.throws(() => dnsRecords(domain, { mxHost: 'not a host' }), /mxHost/);
  assert.throws(() => dnsRecords(domain, { mxHost: 'mx.bank.example', sendingIps: ['300.1.1.1'] }), /sendingIps\[0\]/);
  assert.throws(() => dnsRecords(domain, { mxHost: 'mx.bank.example', dmarcRua: 'nobody' }), /dmarcRua/);
  assert.throws(() => dnsRecords(domain, { mxHost: 'mx.bank.example', spfInclude: 'spf bank' }), /spfInclude/);
});

test('zone-file lines: long TXT split into 255-byte strings, MX with priority', () => {
  const records = dnsRecords(domain, { mxHost: 'mx.fanout.example' });
  const dkim = zoneFileLine(records.find((r) => r.purpose === 'dkim')!);
  assert.match(dkim, /^fo202611\._domainkey\.bank\.example\.\t3600\tIN\tTXT\t\( "v=DKIM1; k=rsa; p=MIIB[^"]{200,}" "x+" \)$/);
  const strings = [...dkim.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  assert.ok(strings.every((s) => s.length <= 255));
  assert.equal(strings.join(''), `v=DKIM1; k=rsa; p=${key}`);
  assert.equal(zoneFileLine(records.find((r) => r.purpose === 'return_path_mx')!), 'bounces.bank.example.\t3600\tIN\tMX\t10 mx.fanout.example.');
  assert.equal(zoneFileLine(records.find((r) => r.purpose === 'dmarc')!), '_dmarc.bank.example.\t3600\tIN\tTXT\t"v=DMARC1; p=none; rua=mailto:postmaster@bank.example"');
  assert.deepEqual(txtStrings('a'.repeat(510)), ['a'.repeat(255), 'a'.repeat(255)]);
});

test('record options from the configuration: HELO name as MX host, public source addresses only', () => {
  assert.deepEqual(recordOptionsFromConfig({ delivery: { heloName: 'mx.fanout.example' } }), { mxHost: 'mx.fanout.example' });
  assert.deepEqual(recordOptionsFromConfig({ delivery: { heloName: 'mx.fanout.example', egress: { sourceIps: ['11.22.33.44', '10.0.0.7', '127.0.0.1', 'garbage', '2a00:1450:4001::1'] } } }),
    { mxHost: 'mx.fanout.example', sendingIps: ['11.22.33.44', '2a00:1450:4001::1'] });
});
