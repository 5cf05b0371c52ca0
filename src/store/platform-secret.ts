import { randomBytes } from 'node:crypto';
import type { Store } from './store.ts';
import { PLATFORM_SECRET, seal, unseal } from './sealed-fields.ts';

const KEY = 'platform_secret';
const cache = new WeakMap<Store, Buffer>();

/**
 * The platform's HMAC secret (VERP tags, unsubscribe and tracking tokens, subscribe links).
 * Made once, kept in the store (sealed with the store's secret key) so every node of a
 * cluster signs and verifies alike. A node whose secret key does not open it fails here, at
 * start, with a message that names the key.
 */
export async function getPlatformSecret(store: Store): Promise<Buffer> {
  const cached = cache.get(store);
  if (cached) return cached;
  const candidate = seal(store, PLATFORM_SECRET, KEY, randomBytes(32).toString('base64'));
  // Insert-if-absent, then read back: two nodes starting together agree on one secret.
  await store.db.insertInto('settings').values({ key: KEY, value: candidate })
    .onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await store.db.selectFrom('settings').select('value').where('key', '=', KEY).executeTakeFirstOrThrow();
  const secret = Buffer.from(unseal(store, PLATFORM_SECRET, KEY, row.value), 'base64');
  cache.set(store, secret);
  return secret;
}
