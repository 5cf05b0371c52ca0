import type { Kysely } from 'kysely';
import type { Engine } from '../../store/dialect.ts';
import { withAutoId } from '../../store/columns.ts';

/** The operations capability's tables: nodes, schedule leases, inspections, probes, tickets, surveys. */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  const real = engine === 'postgres' ? 'double precision' : 'real';
  await db.schema.createTable('ops_nodes')
    .addColumn('node_id', 'text', (c) => c.primaryKey())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('os', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('stopped_at', 'bigint')
    .execute();

  await db.schema.createTable('ops_schedule')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('last_run_at', 'bigint')
    .execute();

  await db.schema.createTable('ops_inspections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('operator', 'text', (c) => c.notNull())
    .addColumn('previous_id', 'text')
    .addColumn('changes', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ops_inspections_kind_started').on('ops_inspections').columns(['kind', 'started_at']).execute();

  await withAutoId(engine, db.schema.createTable('ops_inspection_checks'))
    .addColumn('inspection_id', 'text', (c) => c.notNull().references('ops_inspections.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('threshold', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('numeric', real)
    .execute();
  await db.schema.createIndex('ops_inspection_checks_inspection').on('ops_inspection_checks').columns(['inspection_id', 'position']).execute();
  await db.schema.createIndex('ops_inspection_checks_key').on('ops_inspection_checks').columns(['key', 'inspection_id']).execute();

  await db.schema.createTable('ops_probes')
    .addColumn('token', 'text', (c) => c.primaryKey())
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint')
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('dkim', 'text')
    .addColumn('detail', 'text')
    .execute();

  await db.schema.createTable('ops_tickets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text')
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('assignee_id', 'text')
    .addColumn('contact_name', 'text', (c) => c.notNull())
    .addColumn('contact_email', 'text', (c) => c.notNull())
    .addColumn('contact_phone', 'text', (c) => c.notNull())
    .addColumn('place', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('signal_key', 'text')
    .addColumn('open_signal_key', 'text', (c) => c.unique())
    .addColumn('signal_recovered_at', 'bigint')
    .addColumn('parent_ticket_id', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('resolved_at', 'bigint')
    .addColumn('closed_at', 'bigint')
    .addColumn('response_breached_at', 'bigint')
    .addColumn('resolution_breached_at', 'bigint')
    .addColumn('handling', 'text', (c) => c.notNull())
    .addColumn('degree', 'text', (c) => c.notNull())
    .addColumn('lessons', 'text', (c) => c.notNull())
    .addColumn('customer_opinion', 'text', (c) => c.notNull())
    .addColumn('report_submitted_at', 'bigint')
    .execute();
  await db.schema.createIndex('ops_tickets_status').on('ops_tickets').columns(['status', 'created_at']).execute();
  await db.schema.createIndex('ops_tickets_tenant').on('ops_tickets').columns(['tenant_id', 'created_at']).execute();

  await withAutoId(engine, db.schema.createTable('ops_ticket_timeline'))
    .addColumn('ticket_id', 'text', (c) => c.notNull().references('ops_tickets.id'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ops_ticket_timeline_ticket').on('ops_ticket_timeline').columns(['ticket_id', 'id']).execute();

  await withAutoId(engine, db.schema.createTable('ops_ticket_events'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('ticket_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('ops_surveys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ticket_id', 'text', (c) => c.notNull().references('ops_tickets.id'))
    .addColumn('tenant_id', 'text')
    .addColumn('engineer_id', 'text')
    .addColumn('contact_email', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('mailed_at', 'bigint')
    .addColumn('responded_at', 'bigint')
    .addColumn('recorded_by', 'text')
    .addColumn('satisfaction', 'integer')
    .addColumn('attitude', 'integer')
    .addColumn('technical', 'integer')
    .addColumn('effect', 'integer')
    .addColumn('comments', 'text', (c) => c.notNull())
    .addColumn('critical', 'integer', (c) => c.notNull())
    .addColumn('follow_up_ticket_id', 'text')
    .execute();
  await db.schema.createIndex('ops_surveys_ticket').on('ops_surveys').columns(['ticket_id']).execute();
  await db.schema.createIndex('ops_surveys_responded').on('ops_surveys').columns(['responded_at']).execute();
}
