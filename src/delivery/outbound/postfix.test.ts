import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { Egress } from './egress.ts';
import { RouteResolver } from './routing.ts';
import { DkimSigner, publicKeyRecord } from '../dkim/index.ts';
import { Postfix, postfixAvailable } from '../../testing/postfix.ts';
import { SmtpSink } from '../../testing/smtp-sink.ts';

// Real Postfix on loopback is part of the suite: install it with scripts/setup-postfix.sh.
describe('delivery through a real Postfix', () => {
  let postfix: Postfix;
  let bounces: SmtpSink;
  let remote: SmtpSink;
  let egress: Egress;
  let signer: DkimSigner;
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  before(async () => {
    assert.ok(postfixAvailable(), 'Postfix is required: run scripts/setup-postfix.sh as root');
    bounces = await SmtpSink.start({ starttls: false });
    remote = await SmtpSink.start({ starttls: false, default: 'unknown-550' });
    postfix = await Postfix.start({
      domain: 'mx.fanout.test',
      mailboxes: ['alice'],
      relay: { 'remote.test': `127.0.0.1:${remote.port}` },
      bounceTo: { host: '127.0.0.1', port: bounces.port },
    });
    egress = new Egress({ heloName: 'out.bank.test' });
    signer = new DkimSigner({ workers: 1 });
  });
  after(async () => {
    await egress?.close();
    await signer?.close();
    await postfix?.stop();
    await bounces?.close();
    await remote?.close();
  });

  const message = (to: string) => Buffer.from(
    `From: Statements <statements@bank.test>\r\nTo: ${to}\r\nSubject: Your statement\r\n` +
    'Date: Wed, 25 Nov 2026 18:00:00 +0000\r\nMessage-ID: <pf-1@bank.test>\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n\r\nYour statement is ready.\r\n',
  );

  it('Postfix as destination MX: a DKIM-signed message lands in the mailbox and still verifies; an unknown user gets 550 5.1.1', async () => {
    const routes = new RouteResolver({ staticRoutes: { 'mx.fanout.test': `127.0.0.1:${postfix.port}` } });
    const route = await routes.resolve('mx.fanout.test');
    const signed = await signer.sign(message('alice@mx.fanout.test'), { domain: 'bank.test', selector: 'fo1', privateKeyPem: key });
    const r = await egress.send({ site: route.site, hosts: route.hosts, mailFrom: 'bounces@bank.test', recipients: ['alice@mx.fanout.test', 'nobody@mx.fanout.test'], message: signed });
    assert.equal(r.perRecipient[0]?.outcome, 'delivered');
    assert.equal(r.perRecipient[0]?.replyCode, 250);
    assert.match(r.perRecipient[0]!.text, /queued as/);
    assert.deepEqual([r.perRecipient[1]?.outcome, r.perRecipient[1]?.replyCode, r.perRecipient[1]?.enhancedStatus], ['failed', 550, '5.1.1']);
    assert.match(r.perRecipient[1]!.text, /User unknown/i);
    assert.equal(r.tls, false, 'this Postfix offers no STARTTLS');

    const [delivered] = await postfix.waitForMailbox('alice');
    assert.match(delivered!, /^Return-Path: <bounces@bank\.test>/m);
    assert.match(delivered!, /Your statement is ready\./);
    const res = await dkimVerify(Buffer.from(delivered!), {
      resolver: async (name: string) => {
        if (name !== 'fo1._domainkey.bank.test') throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
        return [[publicKeyRecord(key)]];
      },
    });
    assert.equal(res.results[0]?.status.result, 'pass', 'the signature survives a real MTA');
  });

  it('an unknown user accepted first is bounced by Postfix with a real DSN to the bounce host', async () => {
    bounces.reset();
    const r = await egress.send({
      site: 'postfix-accept-all', hosts: [{ host: '127.0.0.1', port: postfix.acceptAllPort }],
      mailFrom: 'bounces+42@bank.test', recipients: ['ghost@mx.fanout.test'], message: message('ghost@mx.fanout.test'),
    });
    assert.equal(r.perRecipient[0]?.outcome, 'delivered', 'accepted at RCPT, bounced later');
    await bounces.waitForMessages(1, 20_000);
    const dsn = bounces.messages[0]!;
    assert.equal(dsn.mailFrom, '', 'DSNs use the null sender');
    assert.deepEqual(dsn.recipients, ['bounces+42@bank.test']);
    const text = dsn.raw.toString();
    assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status/);
    assert.match(text, /Final-Recipient: rfc822; ghost@mx\.fanout\.test/);
    assert.match(text, /Status: 5\.1\.1/);
    assert.match(text, /Action: failed/);
  });

  it('a recipient refused by the next hop comes back as a DSN quoting the remote 550 5.1.1', async () => {
    bounces.reset();
    const r = await egress.send({
      site: 'postfix-relay', hosts: [{ host: '127.0.0.1', port: postfix.port }],
      mailFrom: 'bounces+43@bank.test', recipients: ['someone@remote.test'], message: message('someone@remote.test'),
    });
    assert.equal(r.perRecipient[0]?.outcome, 'delivered');
    await bounces.waitForMessages(1, 20_000);
    const text = bounces.messages[0]!.raw.toString();
    assert.match(text, /Final-Recipient: rfc822; someone@remote\.test/);
    assert.match(text, /Diagnostic-Code: smtp; 550 5\.1\.1 User unknown/);
    assert.equal(remote.counters.rejectedRecipients, 1);
  });
});
