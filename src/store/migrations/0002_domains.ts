import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.ts';

/**
 * The bounce listener maps a return-path domain back to exactly one sending domain, so two
 * domains may never share one: the index from 0001 becomes unique.
 */
export async function up(db: Kysely<unknown>, _engine: Engine): Promise<void> {
  await db.schema.dropIndex('sending_domains_return_path').execute();
  await db.schema.createIndex('sending_domains_return_path').on('sending_domains').columns(['return_path_domain']).unique().execute();
}
