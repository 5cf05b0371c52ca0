import type { Generated } from 'kysely';

/** Key/value settings kept in the store (generated secrets, schema facts). */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface CoreTables {
  settings: SettingsTable;
}

/**
 * Every table the store holds. The store declares its own here; each capability adds its tables
 * in its `tables.ts` by declaration merging (`declare module '../store/schema.ts' { interface
 * Database extends XTables {} }`), so queries are typed everywhere while the store names no
 * capability.
 */
export interface Database extends CoreTables {}

export type { Generated };
