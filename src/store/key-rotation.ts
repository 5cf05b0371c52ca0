import type { Store } from './store.ts';
import { resealWithCurrentKey, sealedStatus } from './sealed-fields.ts';
import { generateSecretKey, keyId, SecretKeyError } from '../core/secret-box.ts';

export interface RotationReport {
  /** The key that seals from now on. */
  current: string;
  /** Secrets re-sealed with it. */
  resealed: number;
  /** Key ids still in the ring (older keys, kept so nodes not yet restarted keep working). */
  keys: string[];
  file: string | null;
}

/**
 * Key rotation. With `newKey` (the default for a key file) a fresh key goes first in the key
 * file, the older ones stay after it; then every secret is re-sealed with the first key.
 * Nodes sharing the file pick the new key up when they meet a value sealed with it. With
 * `dropOld`, keys no secret uses any more are removed from the file afterwards.
 * For keys in FANOUT_SECRET_KEY: put the new key first there on every node, restart them,
 * then run this with newKey false.
 */
export async function rotateSecretKey(store: Store, options: { newKey: boolean; dropOld: boolean }): Promise<RotationReport> {
  const box = store.secrets;
  if (options.newKey) {
    if (box.source !== 'file') throw new SecretKeyError('the secret keys come from FANOUT_SECRET_KEY: put a new key (npx fanout secrets generate-key) first in it on every node, restart them, then run "npx fanout secrets rotate-key --no-new-key"');
    box.writeKeys([generateSecretKey(), ...box.exportKeys()]);
  }
  const resealed = await resealWithCurrentKey(store);
  if (options.dropOld) {
    const status = await sealedStatus(store);
    const stillUsed = Object.keys(status.byKey).filter((id) => id !== box.currentKeyId);
    if (status.plaintext || stillUsed.length) throw new SecretKeyError(`old keys are still in use (${stillUsed.join(', ') || `${status.plaintext} plain-text values`}); nothing was removed`);
    if (box.source === 'file') box.writeKeys(box.exportKeys().filter((k) => keyId(Buffer.from(k, 'base64')) === box.currentKeyId));
  }
  return { current: box.currentKeyId, resealed, keys: box.keyIds, file: box.file };
}
