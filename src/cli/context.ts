import os from 'node:os';
import type { TSchema } from '@sinclair/typebox';
import type { Actor } from '../audit/log.ts';
import { loadConfig } from '../config/load.ts';
import type { FanoutConfig } from '../config/schema.ts';
import type { StoreMigration } from '../store/migrations/index.ts';
import { Store } from '../store/store.ts';

/** What every command gets: the configuration, the store (migrated), and the CLI's actor. */
export interface CliContext {
  config: FanoutConfig;
  store: Store;
  actor: Actor;
}

export interface GlobalOptions {
  config?: string;
}

export function cliActor(): Actor {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // containers without a passwd entry
  }
  return { operator: `cli:${user}`, clientIp: 'local', role: 'administrator' };
}

/** Runs one command with the configuration and the migrated store, closing the store afterwards. */
export type ContextOpener = <T>(globals: GlobalOptions, fn: (ctx: CliContext) => Promise<T>) => Promise<T>;

/** What the composition root knows and a command's context needs: every section and migration. */
export interface CliAssembly {
  sections: Record<string, TSchema>;
  migrations: StoreMigration[];
  /** Process-wide settings taken from the configuration before the command runs (the quota time zone). */
  prepare?: (config: FanoutConfig) => void;
}

/** The opener the commands get: opens the store for one command and closes it afterwards, whatever happens. */
export function contextOpener(assembly: CliAssembly): ContextOpener {
  return async (globals, fn) => {
    const config = loadConfig({ file: globals.config ?? null, sections: assembly.sections });
    assembly.prepare?.(config);
    const store = Store.open({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, secretKey: config.security.encryptionKey, secretKeyFile: config.security.encryptionKeyFile });
    try {
      await store.migrate(assembly.migrations);
      return await fn({ config, store, actor: cliActor() });
    } finally {
      await store.close();
    }
  };
}

/** Prints rows as an aligned table. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '-' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(columns.map((c) => c.toUpperCase())));
  for (const row of cells) console.log(line(row));
}
