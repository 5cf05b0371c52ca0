import type { Kysely } from 'kysely';
import type { Engine } from '../dialect.ts';
import { withAutoId } from '../columns.ts';

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await withAutoId(engine, db.schema.createTable('tracking_events'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('campaign_id', 'text')
    .addColumn('url', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .execute();
  await db.schema.createIndex('tracking_events_campaign').on('tracking_events').columns(['campaign_id', 'kind']).execute();
  await db.schema.createIndex('tracking_events_tenant_at').on('tracking_events').columns(['tenant_id', 'at']).execute();
}
