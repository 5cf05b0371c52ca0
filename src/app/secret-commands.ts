import type { Command } from 'commander';
import { rotateSecretKey } from '../core/key-rotation.ts';
import { sealedStatus } from '../core/sealed-fields.ts';
import { generateSecretKey } from '../core/secret-box.ts';
import type { ContextOpener, GlobalOptions } from '../cli/context.ts';

/** `fanout secrets ...`: the key that seals DKIM keys, TOTP secrets and the platform secret. */
export function registerSecretCommands(program: Command, withContext: ContextOpener): void {
  const globals = () => program.opts<GlobalOptions>();
  const secrets = program.command('secrets').description('the secret key that seals DKIM keys, TOTP secrets and the platform secret in the store');

  secrets.command('generate-key').description('print a new random key (base64) for FANOUT_SECRET_KEY or a key file')
    .action(() => console.log(generateSecretKey()));

  secrets.command('status').description('where the keys come from, and how many secrets each key seals')
    .action(() => withContext(globals(), async ({ store }) => {
      const status = await sealedStatus(store);
      console.log(JSON.stringify({ source: store.secrets.source, file: store.secrets.file, current: store.secrets.currentKeyId, keys: store.secrets.keyIds, sealedByKey: status.byKey, plaintext: status.plaintext }));
    }));

  secrets.command('rotate-key').description('put a new key first in the key file and re-seal every secret with it')
    .option('--no-new-key', 're-seal with the first key already in the ring (keys from FANOUT_SECRET_KEY, or a key file copied to every node first)')
    .option('--drop-old', 'afterwards, remove from the key file the keys no secret uses any more')
    .action((o: { newKey: boolean; dropOld?: boolean }) => withContext(globals(), async ({ store }) => {
      const r = await rotateSecretKey(store, { newKey: o.newKey, dropOld: o.dropOld === true });
      console.log(`key ${r.current} seals from now on${r.file ? ` (${r.file})` : ''}; ${r.resealed} secret(s) re-sealed with it`);
      if (r.keys.length > 1) console.log(`older keys kept in the ring: ${r.keys.slice(1).join(', ')}; remove them with --drop-old once every node has the new key`);
    }));
}
