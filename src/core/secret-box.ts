import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Secrets at rest (DKIM private keys, TOTP secrets, the platform HMAC secret) are sealed with
 * AES-256-GCM under a key kept outside the database: in FANOUT_SECRET_KEY, or in a key file
 * (default `<data folder>/secret.key`, made 0600 on first start). A copy of the database alone
 * (a backup, a dump, the SQLite file) then reveals none of them.
 *
 * Sealed values are text: `enc:v1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>`. The key id
 * names the key that sealed it, so a key ring can hold the current key (first) and older ones
 * (after it) while `fanout secrets rotate-key` re-seals everything. The additional data is
 * the value's place (table, column, row), so a sealed value copied into another row does not
 * open there.
 */

const PREFIX = 'enc:v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// Another node may have rotated the key file: re-read it when a value names an unknown key.
const RELOAD_AFTER_MS = 2_000;

export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

export interface KeySource {
  /** Keys from the environment (FANOUT_SECRET_KEY): base64, comma-separated, current first. */
  key?: string | null;
  /** The key file; default `<dataDir>/secret.key`. */
  keyFile?: string | null;
  dataDir: string;
}

interface RingKey {
  id: string;
  key: Buffer;
}

/** A short public name of a key: it identifies the key without revealing it. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('fanout secret key id\0').update(key).digest('hex').slice(0, 12);
}

export function generateSecretKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function parseKeys(text: string, where: string): RingKey[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const keys = lines.flatMap((l) => l.split(',')).map((l) => l.trim()).filter(Boolean).map((line, i) => {
    const key = Buffer.from(line, 'base64');
    if (key.length !== KEY_BYTES || key.toString('base64') !== line) {
      throw new SecretKeyError(`${where}: key ${i + 1} is not ${KEY_BYTES} bytes of base64 (make one with "npx fanout secrets generate-key")`);
    }
    return { id: keyId(key), key };
  });
  if (!keys.length) throw new SecretKeyError(`${where} holds no key`);
  return keys;
}

const KEY_FILE_HEADER = '# Fanout secret keys: the first seals new secrets, the others still open older ones.\n# Keep this file out of backups of the database, readable by the Fanout user only.\n';

/** Writes a key file atomically with mode 0600 (a crash leaves the old file or the new one). */
export function writeKeyFile(file: string, keys: string[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${KEY_FILE_HEADER}${keys.join('\n')}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

export class SecretBox {
  readonly source: 'environment' | 'file';
  readonly file: string | null;
  #keys: RingKey[];
  #loadedAt = Date.now();

  private constructor(source: 'environment' | 'file', file: string | null, keys: RingKey[]) {
    this.source = source;
    this.file = file;
    this.#keys = keys;
  }

  /**
   * The key ring: FANOUT_SECRET_KEY when given, otherwise the key file, made with a new
   * random key when it does not exist yet.
   */
  static load(source: KeySource): SecretBox {
    if (source.key && source.key.trim()) return new SecretBox('environment', null, parseKeys(source.key, 'FANOUT_SECRET_KEY'));
    const file = path.resolve(source.keyFile || path.join(source.dataDir, 'secret.key'));
    if (!fs.existsSync(file)) writeKeyFile(file, [generateSecretKey()]);
    const mode = fs.statSync(file).mode & 0o777;
    if (mode & 0o077) fs.chmodSync(file, 0o600);
    return new SecretBox('file', file, parseKeys(fs.readFileSync(file, 'utf8'), file));
  }

  /** Key ids in the ring, the one that seals first. */
  get keyIds(): string[] {
    return this.#keys.map((k) => k.id);
  }

  get currentKeyId(): string {
    return this.#keys[0]!.id;
  }

  /** Seals `plaintext` for the place `context` names (table, column and row). */
  seal(plaintext: string, context: string): string {
    const { id, key } = this.#keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}${id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The plaintext of a sealed value; throws SecretKeyError when no key of the ring opens it. */
  open(value: string, context: string): string {
    const parsed = SecretBox.parse(value);
    if (!parsed) throw new SecretKeyError(`${context}: the stored value is not sealed`);
    let ring = this.#keys.find((k) => k.id === parsed.keyId);
    if (!ring && this.#reload()) ring = this.#keys.find((k) => k.id === parsed.keyId);
    if (!ring) {
      throw new SecretKeyError(`${context} was sealed with key ${parsed.keyId}, which is not in ${this.source === 'file' ? this.file : 'FANOUT_SECRET_KEY'} (keys: ${this.keyIds.join(', ')}); every node needs the same secret key`);
    }
    const blob = Buffer.from(parsed.data, 'base64url');
    if (blob.length < IV_BYTES + TAG_BYTES) throw new SecretKeyError(`${context}: the sealed value is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', ring.key, blob.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
      return Buffer.concat([decipher.update(blob.subarray(IV_BYTES, blob.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError(`${context}: the sealed value does not open with key ${ring.id} (altered, or moved from another row)`);
    }
  }

  /** True when the value is sealed with the ring's current key (nothing to re-seal). */
  isCurrent(value: string): boolean {
    return SecretBox.parse(value)?.keyId === this.currentKeyId;
  }

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  static parse(value: string): { keyId: string; data: string } | null {
    if (!value.startsWith(PREFIX)) return null;
    const rest = value.slice(PREFIX.length);
    const colon = rest.indexOf(':');
    if (colon <= 0) return null;
    return { keyId: rest.slice(0, colon), data: rest.slice(colon + 1) };
  }

  /** Re-reads the key file, at most every RELOAD_AFTER_MS; true when the ring changed. */
  #reload(): boolean {
    if (this.source !== 'file' || !this.file || Date.now() - this.#loadedAt < RELOAD_AFTER_MS) return false;
    this.#loadedAt = Date.now();
    try {
      const keys = parseKeys(fs.readFileSync(this.file, 'utf8'), this.file);
      const changed = keys.map((k) => k.id).join() !== this.keyIds.join();
      this.#keys = keys;
      return changed;
    } catch {
      return false;
    }
  }

  /**
   * Rewrites the key file with `keys` (base64, the sealing key first) and uses them from now
   * on. Only for a ring read from a file: keys from the environment are changed there.
   */
  writeKeys(keys: string[]): void {
    if (this.source !== 'file' || !this.file) throw new SecretKeyError('the secret keys come from FANOUT_SECRET_KEY: change them there, on every node');
    const ring = parseKeys(keys.join('\n'), 'new key ring');
    writeKeyFile(this.file, keys);
    this.#keys = ring;
    this.#loadedAt = Date.now();
  }

  /** The ring's keys as base64, the sealing key first: for rewriting the key file only. */
  exportKeys(): string[] {
    return this.#keys.map((k) => k.key.toString('base64'));
  }
}
