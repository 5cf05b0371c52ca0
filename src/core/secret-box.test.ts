import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { generateSecretKey, keyId, SecretBox, SecretKeyError } from './secret-box.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-keys-'));

test('a key file is made 0600 on first use; values seal with AES-256-GCM and open only in their place', () => {
  const dir = tmp();
  try {
    const box = SecretBox.load({ dataDir: dir });
    assert.equal(box.source, 'file');
    assert.equal(fs.statSync(path.join(dir, 'secret.key')).mode & 0o777, 0o600);
    const sealed = box.seal('-----BEGIN PRIVATE KEY-----', 'dkim_keys.private_key_pem:dk_1');
    assert.match(sealed, new RegExp(`^enc:v1:${box.currentKeyId}:[A-Za-z0-9_-]+$`));
    assert.doesNotMatch(sealed, /PRIVATE/);
    assert.notEqual(box.seal('same', 'c'), box.seal('same', 'c'), 'a fresh IV each time');
    assert.equal(box.open(sealed, 'dkim_keys.private_key_pem:dk_1'), '-----BEGIN PRIVATE KEY-----');
    assert.throws(() => box.open(sealed, 'dkim_keys.private_key_pem:dk_2'), /does not open .*moved from another row/);
    const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    assert.throws(() => box.open(tampered, 'dkim_keys.private_key_pem:dk_1'), SecretKeyError);
    // The same file opens it again (another process, a restart).
    assert.equal(SecretBox.load({ dataDir: dir }).open(sealed, 'dkim_keys.private_key_pem:dk_1'), '-----BEGIN PRIVATE KEY-----');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('keys from the environment: current first, older ones still open; an unknown key is named', () => {
  const oldKey = generateSecretKey();
  const newKey = generateSecretKey();
  const before = SecretBox.load({ key: oldKey, dataDir: '/nonexistent' });
  const sealedOld = before.seal('totp secret', 'console_users.totp_secret:us_1');
  const ring = SecretBox.load({ key: `${newKey},${oldKey}`, dataDir: '/nonexistent' });
  assert.equal(ring.source, 'environment');
  assert.equal(ring.currentKeyId, keyId(Buffer.from(newKey, 'base64')));
  assert.equal(ring.open(sealedOld, 'console_users.totp_secret:us_1'), 'totp secret');
  assert.equal(ring.isCurrent(sealedOld), false);
  const other = SecretBox.load({ key: generateSecretKey(), dataDir: '/nonexistent' });
  assert.throws(() => other.open(sealedOld, 'console_users.totp_secret:us_1'), new RegExp(`sealed with key ${before.currentKeyId}, which is not in FANOUT_SECRET_KEY`));
  assert.throws(() => SecretBox.load({ key: 'c2hvcnQ=', dataDir: '/nonexistent' }), /key 1 is not 32 bytes of base64/);
});

test('a node meeting a value sealed with a key added to the shared file since it started re-reads the file', async () => {
  const dir = tmp();
  try {
    const running = SecretBox.load({ dataDir: dir });
    const rotating = SecretBox.load({ dataDir: dir });
    rotating.writeKeys([generateSecretKey(), ...rotating.exportKeys()]);
    const sealed = rotating.seal('platform secret', 'settings.value:platform_secret');
    await new Promise((r) => setTimeout(r, 2_100));
    assert.equal(running.open(sealed, 'settings.value:platform_secret'), 'platform secret');
    assert.equal(running.keyIds.length, 2);
    assert.equal(fs.statSync(path.join(dir, 'secret.key')).mode & 0o777, 0o600);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
