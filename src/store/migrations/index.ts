import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.ts';
import * as foundation from './0001_foundation.ts';
import * as securityHardening from './0020_security_hardening.ts';

export interface StoreMigration {
  name: string;
  up(db: Kysely<unknown>, engine: Engine): Promise<void>;
}

/**
 * The store's own schema versions: the foundation (settings, and the first capabilities'
 * tables, made before capabilities brought their own migrations) and the security hardening
 * that sealed their secrets. Every other version comes from a capability's registration; the
 * composition root passes the whole list to `Store.migrate`. Capabilities own number ranges so
 * parallel work never collides: 0001-0099 foundation, 0100-0199 delivery, 0200-0299 bounces,
 * 0300-0399 subscribers, campaigns and tracking, 0400-0499 analytics, 0500-0599 operations, 0600-0699 cluster, 0700-0799 webhooks.
 */
export const foundationMigrations: StoreMigration[] = [
  { name: '0001_foundation', up: foundation.up },
  { name: '0020_security_hardening', up: securityHardening.up },
];
