import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { DkimSigner, DkimError, publicKeyRecord, decodeKey, dkimSignatureHeader } from './index.ts';

function rsaKey(bits = 2048): string {
  return generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
const ed25519Key = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** A DNS stand-in for mailauth: TXT records for selector._domainkey.domain. */
function txtResolver(records: Record<string, string>) {
  return async (name: string, type: string) => {
    const rec = records[name.toLowerCase()];
    if (type !== 'TXT' || !rec) throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
    return [[rec]];
  };
}

const message = (extra = '') => Buffer.from(
  'From: "Card Centre" <cards@bank.test>\r\n' +
  'To: client@example.test\r\n' +
  'Subject: =?UTF-8?B?5L+h55So5Y2h6LSm5Y2V?=\r\n' +
  'Date: Wed, 25 Nov 2026 18:00:00 +0000\r\n' +
  'Message-ID: <abc@bank.test>\r\n' +
  'MIME-Version: 1.0\r\n' +
  'Content-Type: text/plain; charset=utf-8\r\n' +
  '\r\n' +
  `Dear client,  \r\n\r\nyour statement\t is ready.${extra}\r\n\r\n\r\n`,
);

async function verify(signed: Buffer, records: Record<string, string>) {
  const res = await dkimVerify(signed, { resolver: txtResolver(records) });
  return res.results;
}

describe('DKIM signing', () => {
  const rsa = rsaKey();
  const ed = ed25519Key();
  const records = {
    's1._domainkey.bank.test': publicKeyRecord(rsa),
    'ed._domainkey.bank.test': publicKeyRecord(ed),
  };

  for (const workers of [0, 2]) {
    describe(`with ${workers} worker threads`, () => {
      let signer: DkimSigner;
      before(() => { signer = new DkimSigner({ workers }); });
      after(() => signer.close());

      it('produces an RSA relaxed/relaxed signature that mailauth verifies as pass', async () => {
        const signed = await signer.sign(message(), { domain: 'bank.test', selector: 's1', privateKeyPem: rsa });
        assert.match(signed.toString('latin1'), /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=bank.test;/);
        const [result] = await verify(signed, records);
        assert.equal(result?.status.result, 'pass', JSON.stringify(result?.status));
        assert.equal(result?.signingDomain, 'bank.test');
        assert.equal(result?.selector, 's1');
      });

      it('produces an Ed25519 signature that mailauth verifies', async () => {
        const signed = await signer.sign(message(), { domain: 'bank.test', selector: 'ed', privateKeyPem: ed });
        assert.match(signed.toString('latin1'), /a=ed25519-sha256/);
        const [result] = await verify(signed, records);
        assert.equal(result?.status.result, 'pass', JSON.stringify(result?.status));
      });

      it('folded, tabbed and oddly spaced headers and bodies still verify', async () => {
        const odd = Buffer.from(
          'From:   "Card  Centre"\t<cards@bank.test>  \r\n' +
          'To: a@example.test,\r\n\tb@example.test\r\n' +
          'Subject : Statement\r\n   for   November \r\n' +
          'Date: Wed, 25 Nov 2026 18:00:00 +0000\r\n' +
          '\r\n' +
          'line with trailing space \r\n\ttabbed\tline\r\nbare\nLF\r\n\r\n',
        );
        const signed = await signer.sign(odd, { domain: 'bank.test', selector: 's1', privateKeyPem: rsa });
        const [result] = await verify(signed, records);
        assert.equal(result?.status.result, 'pass', JSON.stringify(result?.status));
      });

      it('a body changed after signing fails verification (the test can fail)', async () => {
        const signed = await signer.sign(message(), { domain: 'bank.test', selector: 's1', privateKeyPem: rsa });
        const tampered = Buffer.from(signed.toString('latin1').replace('is ready', 'is READY'), 'latin1');
        const [result] = await verify(tampered, records);
        assert.equal(result?.status.result, 'neutral');
        assert.match(result?.status.comment ?? '', /body hash did not verify/);
      });

      it('signs many messages concurrently, each verifiable', async () => {
        const signed = await Promise.all(Array.from({ length: 40 }, (_, i) => signer.sign(message(` #${i}`), { domain: 'bank.test', selector: 's1', privateKeyPem: rsa })));
        for (const [i, s] of signed.entries()) {
          assert.ok(s.toString().includes(` #${i}\r\n`));
          const [result] = await verify(s, records);
          assert.equal(result?.status.result, 'pass');
        }
      });

      it('a bad message fails alone: the others signed in the same turn still succeed', async () => {
        const key = { domain: 'bank.test', selector: 's1', privateKeyPem: rsa };
        const results = await Promise.allSettled([
          signer.sign(message(' one'), key),
          signer.sign(Buffer.from('Subject: no from\r\n\r\nx\r\n'), key),
          signer.sign(message(' three'), key),
        ]);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
        assert.match(String((results[1] as PromiseRejectedResult).reason), /no From header/);
        for (const r of [results[0], results[2]]) {
          const [v] = await verify((r as PromiseFulfilledResult<Buffer>).value, records);
          assert.equal(v?.status.result, 'pass');
        }
      });

      it('picks up a rotated key for the same selector', async () => {
        const rotated = rsaKey();
        const signed = await signer.sign(message(), { domain: 'bank.test', selector: 's1', privateKeyPem: rotated });
        const [old] = await verify(signed, records);
        assert.equal(old?.status.result, 'fail');
        const [fresh] = await verify(signed, { ...records, 's1._domainkey.bank.test': publicKeyRecord(rotated) });
        assert.equal(fresh?.status.result, 'pass');
      });

      it('rejects a bad key with a clear error that does not quote the key', async () => {
        const bad = '-----BEGIN PRIVATE KEY-----\nTOPSECRETbutbroken\n-----END PRIVATE KEY-----\n';
        await assert.rejects(signer.sign(message(), { domain: 'bank.test', selector: 's1', privateKeyPem: bad }), (err: Error) => {
          assert.ok(err instanceof DkimError);
          assert.match(err.message, /s1\._domainkey\.bank\.test is not a valid PEM private key/);
          assert.doesNotMatch(err.message, /TOPSECRET/);
          return true;
        });
      });

      it('rejects a message without From, and bad domain/selector', async () => {
        await assert.rejects(signer.sign(Buffer.from('Subject: x\r\n\r\nbody\r\n'), { domain: 'bank.test', selector: 's1', privateKeyPem: rsa }), /no From header/);
        await assert.rejects(signer.sign(message(), { domain: 'not a domain', selector: 's1', privateKeyPem: rsa }), /not a signing domain/);
        await assert.rejects(signer.sign(message(), { domain: 'bank.test', selector: 'a b', privateKeyPem: rsa }), /not a selector/);
      });
    });
  }

  it('computes the same body hash as mailauth dkimSign, with the expected tags', async () => {
    const t = Date.UTC(2026, 10, 25, 18, 0, 0);
    const ours = dkimSignatureHeader(message(), decodeKey({ domain: 'bank.test', selector: 's1', privateKeyPem: rsa }), { signTime: t });
    // mailauth's typings ask for top-level fields, but its signer reads only signatureData.
    const opts = { signTime: new Date(t), signatureData: [{ signingDomain: 'bank.test', selector: 's1', privateKey: rsa }] } as unknown as Parameters<typeof dkimSign>[1];
    const theirs = await dkimSign(message(), opts);
    const tag = (h: string, name: string) => new RegExp(`[; ]${name}=([^;]+)`).exec(h.replace(/\r\n\s+/g, ' '))?.[1];
    assert.equal(tag(ours, 'bh'), tag(theirs.signatures, 'bh'));
    assert.equal(tag(ours, 't'), String(t / 1000));
    assert.equal(tag(ours, 'h'), 'Content-Type:MIME-Version:Message-ID:Date:Subject:To:From');
    assert.ok(ours.split('\r\n').every((l) => l.length <= 78), 'folded to 78 columns');
  });

  it('refuses RSA keys under 1024 bits and a closed signer', async () => {
    assert.throws(() => decodeKey({ domain: 'bank.test', selector: 's', privateKeyPem: rsaKey(512) }), /at least 1024/);
    const s = new DkimSigner({ workers: 1 });
    await s.close();
    await assert.rejects(s.sign(message(), { domain: 'bank.test', selector: 's1', privateKeyPem: rsa }), /closed/);
    assert.throws(() => new DkimSigner({ workers: -1 }), /workers must be/);
  });
});

describe('relaxed body hash fast path', () => {
  it('matches mailauth\'s canonicaliser on canonical and non-canonical bodies alike', async () => {
    const { relaxedBodyHash } = await import('./core.ts');
    const { createRequire } = await import('node:module');
    const { dkimBody } = createRequire(import.meta.url)('mailauth/lib/dkim/body/index.js') as { dkimBody(c: string, h: string, l: false): { update(b: Buffer): void; digest(e: string): string } };
    const reference = (b: Buffer) => {
      const h = dkimBody('relaxed', 'sha256', false);
      if (b.length) h.update(b);
      return h.digest('base64');
    };
    const pieces = ['a', 'word', ' ', '  ', '\t', '\r\n', '\n', '\r', '.', 'é'];
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const bodies = ['', '\r\n', '\r\n\r\n', 'x', 'x\r\n', 'x\r\n\r\n\r\n', 'x ', 'a  b\r\n', 'a\tb\r\n', 'line\nnext\r\n', 'end \r\n'];
    for (let i = 0; i < 2000; i++) bodies.push(Array.from({ length: Math.floor(rnd() * 30) }, () => pieces[Math.floor(rnd() * pieces.length)]).join(''));
    for (const b of bodies) {
      const buf = Buffer.from(b, 'latin1');
      assert.equal(relaxedBodyHash(buf), reference(buf), JSON.stringify(b));
    }
  });
});
