import { sql } from 'kysely';
import type { Actor } from '../audit/log.ts';
import { recordOperation } from '../audit/log.ts';
import { conflict, forbidden, invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { requireName } from '../core/validate.ts';
import { cancelQueuedMessages } from '../delivery/index.ts';
import { findSendingDomain } from '../domains/service.ts';
import { parseFrom } from '../messages/compose.ts';
import type { Executor, Store, Tx } from '../store/store.ts';
import type { CampaignTable } from './tables.ts';
import { getTemplateRow } from './templates.ts';
import { scheduleInstant } from './zoned-time.ts';

export interface CampaignInput {
  name: string;
  accountId: string;
  listId: string;
  templateId: string;
  from: string;
  filter?: Record<string, string | number | boolean>;
  scheduledAt?: string | null;
  timezone?: string;
  tracking?: boolean;
}

export interface CampaignProgress {
  total: number;
  queued: number;
  skipped: number;
  sent: number;
  delivered: number;
  deferred: number;
  bounced: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
}

export interface CampaignView {
  id: string;
  tenantId: string;
  accountId: string;
  name: string;
  listId: string;
  templateId: string;
  from: string;
  filter: Record<string, unknown>;
  status: string;
  scheduledAt: string | null;
  timezone: string;
  tracking: boolean;
  createdBy: string;
  approvedBy: string | null;
  approvedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  note: string | null;
  progress: CampaignProgress;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

async function progressOf(db: Executor, c: CampaignTable): Promise<CampaignProgress> {
  const states = await db.selectFrom('campaign_recipients as cr').innerJoin('delivery_recipients as dr', 'dr.message_id', 'cr.message_id')
    .select(['dr.state', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('dr.attempts').as('attempts')])
    .where('cr.campaign_id', '=', c.id).groupBy('dr.state').execute();
  const by = (s: string) => Number(states.find((r) => r.state === s)?.n ?? 0);
  const deferred = await db.selectFrom('campaign_recipients as cr').innerJoin('delivery_recipients as dr', 'dr.message_id', 'cr.message_id')
    .select((eb) => eb.fn.countAll<number>().as('n')).where('cr.campaign_id', '=', c.id).where('dr.state', '=', 'queued').where('dr.attempts', '>', 0).executeTakeFirst();
  const tracking = await db.selectFrom('tracking_events').select(['kind', sql<number>`count(distinct email)`.as('n')])
    .where('campaign_id', '=', c.id).groupBy('kind').execute();
  const distinct = (k: string) => Number(tracking.find((r) => r.kind === k)?.n ?? 0);
  const delivered = by('delivered');
  const bounced = by('failed') + by('expired');
  return {
    total: c.total, queued: c.enqueued, skipped: c.skipped, sent: delivered + bounced, delivered, deferred: Number(deferred?.n ?? 0), bounced,
    opened: distinct('open'), clicked: distinct('click'), unsubscribed: distinct('unsubscribe'),
  };
}

async function view(db: Executor, c: CampaignTable): Promise<CampaignView> {
  return {
    id: c.id, tenantId: c.tenant_id, accountId: c.account_id, name: c.name, listId: c.list_id, templateId: c.template_id, from: c.from_address,
    filter: JSON.parse(c.filter) as Record<string, unknown>, status: c.status, scheduledAt: iso(c.scheduled_at), timezone: c.timezone, tracking: c.tracking === 1,
    createdBy: c.created_by_name, approvedBy: c.approved_by_name, approvedAt: iso(c.approved_at), startedAt: iso(c.started_at), finishedAt: iso(c.finished_at),
    note: c.note, progress: await progressOf(db, c),
  };
}

async function row(db: Executor, tenantId: string | null, id: string): Promise<CampaignTable> {
  let q = db.selectFrom('campaigns').selectAll().where('id', '=', id);
  if (tenantId) q = q.where('tenant_id', '=', tenantId);
  const c = await q.executeTakeFirst();
  if (!c) throw notFound('campaign');
  return c;
}

function checkFilter(filter: unknown): Record<string, string | number | boolean> {
  if (filter === undefined) return {};
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw invalid('filter must be an object of attribute → value', [{ field: '/body/filter', message: 'object' }]);
  for (const [k, v] of Object.entries(filter)) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw invalid(`filter.${k} must be a string, number or boolean`, [{ field: `/body/filter/${k}`, message: 'scalar' }]);
  }
  return filter as Record<string, string | number | boolean>;
}

/** Checks that every referenced object exists in the tenant and the sender may use the from domain. */
async function checkReferences(db: Executor, tenantId: string, input: CampaignInput): Promise<void> {
  const account = await db.selectFrom('sending_accounts').select(['id', 'status']).where('id', '=', input.accountId).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!account || account.status === 'deleted') throw invalid('accountId is not a sending account of this tenant', [{ field: '/body/accountId', message: 'unknown account' }]);
  const list = await db.selectFrom('subscriber_lists').select('id').where('id', '=', input.listId).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!list) throw invalid('listId is not a list of this tenant', [{ field: '/body/listId', message: 'unknown list' }]);
  await getTemplateRow(db, tenantId, input.templateId).catch(() => {
    throw invalid('templateId is not a template of this tenant', [{ field: '/body/templateId', message: 'unknown template' }]);
  });
  const from = parseFrom(input.from);
  const domain = await findSendingDomain(db, from.domain);
  if (!domain || domain.tenantId !== tenantId) throw invalid(`${from.domain} is not a sending domain of this tenant`, [{ field: '/body/from', message: 'domain not registered for this tenant' }]);
}

export async function createCampaign(store: Store, actor: Actor, tenantId: string, input: CampaignInput): Promise<CampaignView> {
  const name = requireName('name', input.name, 200);
  const filter = checkFilter(input.filter);
  const timezone = input.timezone ?? 'UTC';
  const scheduledAt = input.scheduledAt ? scheduleInstant(input.scheduledAt, timezone) : null;
  return store.transaction(async (trx) => {
    await checkReferences(trx, tenantId, input);
    const now = Date.now();
    const c: CampaignTable = {
      id: newId('cp', now), tenant_id: tenantId, account_id: input.accountId, name, list_id: input.listId, template_id: input.templateId,
      from_address: input.from, filter: JSON.stringify(filter), status: 'draft', scheduled_at: scheduledAt, timezone, tracking: input.tracking === false ? 0 : 1,
      created_by: actor.userId ?? actor.operator, created_by_name: actor.operator, submitted_at: null, approved_by: null, approved_by_name: null, approved_at: null,
      started_at: null, finished_at: null, total: 0, checkpoint: 0, enqueued: 0, skipped: 0, note: null, lease_owner: null, lease_expires_at: null, created_at: now, updated_at: now,
    };
    await trx.insertInto('campaigns').values(c).execute();
    await recordOperation(trx, actor, { operation: 'campaign.create', objectType: 'campaign', objectId: c.id, tenantId, description: `created campaign ${name}`, details: { listId: c.list_id, templateId: c.template_id, scheduledAt: iso(scheduledAt), timezone } });
    return view(trx, c);
  });
}

export async function getCampaign(db: Executor, tenantId: string | null, id: string): Promise<CampaignView> {
  return view(db, await row(db, tenantId, id));
}

export async function listCampaigns(db: Executor, tenantId: string | null): Promise<CampaignView[]> {
  let q = db.selectFrom('campaigns').selectAll().orderBy('created_at', 'desc').limit(200);
  if (tenantId) q = q.where('tenant_id', '=', tenantId);
  return Promise.all((await q.execute()).map((c) => view(db, c)));
}

type Transition = {
  from: string[]; to: string; operation: string; verb: string; extra?: (c: CampaignTable, actor: Actor, now: number) => Partial<CampaignTable>;
  /** More work that commits with the state change. */
  then?: (trx: Tx, now: number) => Promise<void>;
};

async function transition(store: Store, actor: Actor, tenantId: string | null, id: string, t: Transition, check?: (c: CampaignTable, trx: Tx) => Promise<void> | void): Promise<CampaignView> {
  return store.transaction(async (trx) => {
    const c = await row(trx, tenantId, id);
    if (!t.from.includes(c.status)) throw conflict(`a ${c.status} campaign cannot be ${t.verb}`);
    await check?.(c, trx);
    const now = Date.now();
    const changes = { status: t.to, updated_at: now, ...(t.extra?.(c, actor, now) ?? {}) };
    // The status guard makes concurrent transitions (two approvers, a pause racing the runner) safe.
    const res = await trx.updateTable('campaigns').set(changes).where('id', '=', id).where('status', '=', c.status).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw conflict('the campaign changed meanwhile; reload and try again');
    await t.then?.(trx, now);
    await recordOperation(trx, actor, { operation: t.operation, objectType: 'campaign', objectId: id, tenantId: c.tenant_id, description: `campaign ${c.name} ${t.verb}` });
    return view(trx, { ...c, ...changes });
  });
}

export const submitCampaign = (store: Store, actor: Actor, tenantId: string | null, id: string) =>
  transition(store, actor, tenantId, id, { from: ['draft'], to: 'pending_approval', operation: 'campaign.submit', verb: 'submitted for approval', extra: (_c, _a, now) => ({ submitted_at: now }) });

/** Four eyes: the approver must be another person than the one who made the campaign. */
export const approveCampaign = (store: Store, actor: Actor, tenantId: string | null, id: string) =>
  transition(store, actor, tenantId, id, {
    from: ['pending_approval'], to: 'approved', operation: 'campaign.approve', verb: 'approved',
    extra: (_c, a, now) => ({ approved_by: a.userId ?? a.operator, approved_by_name: a.operator, approved_at: now }),
  }, (c) => {
    if ((actor.userId ?? actor.operator) === c.created_by) throw forbidden('a campaign must be approved by someone other than its author');
  });

export const rejectCampaign = (store: Store, actor: Actor, tenantId: string | null, id: string) =>
  transition(store, actor, tenantId, id, { from: ['pending_approval'], to: 'draft', operation: 'campaign.reject', verb: 'sent back to draft' });

export const pauseCampaign = (store: Store, actor: Actor, tenantId: string | null, id: string) =>
  transition(store, actor, tenantId, id, { from: ['approved', 'running'], to: 'paused', operation: 'campaign.pause', verb: 'paused' });

export const resumeCampaign = (store: Store, actor: Actor, tenantId: string | null, id: string) =>
  transition(store, actor, tenantId, id, { from: ['paused'], to: 'approved', operation: 'campaign.resume', verb: 'resumed', extra: () => ({ note: null }) });

/** Cancelling also withdraws the campaign's mail still waiting in the queue. */
export async function cancelCampaign(store: Store, actor: Actor, tenantId: string | null, id: string): Promise<CampaignView> {
  return transition(store, actor, tenantId, id, {
    from: ['draft', 'pending_approval', 'approved', 'running', 'paused'], to: 'cancelled', operation: 'campaign.cancel', verb: 'cancelled', extra: (_c, _a, now) => ({ finished_at: now }),
    // Delivery owns its queue: it cancels the campaign's queued mail and logs each recipient, in this transaction.
    then: async (trx, now) => {
      let after = 0;
      for (;;) {
        const batch = await trx.selectFrom('campaign_recipients').select(['subscriber_id', 'message_id']).where('campaign_id', '=', id).where('message_id', 'is not', null)
          .where('subscriber_id', '>', after).orderBy('subscriber_id').limit(1000).execute();
        if (!batch.length) break;
        await cancelQueuedMessages(trx, actor, batch.map((r) => r.message_id!), now);
        after = batch.at(-1)!.subscriber_id;
      }
    },
  });
}
