import type { Logger } from 'pino';
import { AppError } from '../core/errors.ts';
import { getPlatformSecret } from '../store/platform-secret.ts';
import { writeMessages } from '../delivery/index.ts';
import type { EnqueueItem, QuotaRefusal } from '../delivery/index.ts';
import { newMessageIdHeader, parseFrom } from '../messages/index.ts';
import { suppressionCheck } from '../bounces/index.ts';
import type { Store } from '../store/store.ts';
import { memberPage } from '../subscribers/index.ts';
import { BodySplitter } from '../delivery/index.ts';
import { buildMime, compileTemplate, RenderBudget, renderMessage } from '../templates/index.ts';
import type { CompiledTemplate, RenderLimits } from '../templates/index.ts';
import { unsubscribeHeaders } from '../tracking/index.ts';
import { addTracking, unsubscribeTargets } from '../tracking/index.ts';
import { findSendingDomain } from '../domains/index.ts';
import type { CampaignTable } from './tables.ts';

export interface CampaignRunnerOptions {
  nodeId: string;
  publicUrl: string;
  batchSize?: number;
  pollMs?: number;
  leaseMs?: number;
  /** What rendering one batch may cost, in all (config `templates`). */
  renderLimits?: Partial<RenderLimits>;
  /** Bytes one batch's messages may hold, shared parts once (config `templates.requestMessageBytes`). */
  requestMessageBytes?: number;
  logger?: Logger;
}

const FREEZE_PAGE = 1000;

function matches(attributes: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([k, v]) => attributes[k] === v);
}

/**
 * Fans approved campaigns out into the delivery queue. The recipient set is frozen when a
 * campaign starts; it is then walked in keyset batches, and each batch's messages are written
 * in the same transaction as the checkpoint that says they were written — so a restart, on
 * this node or another, neither skips nor repeats anyone. Leases in the store decide which
 * node runs which campaign.
 */
export class CampaignRunner {
  readonly #store: Store;
  readonly #opts: Required<Omit<CampaignRunnerOptions, 'logger' | 'renderLimits'>> & { logger?: Logger; renderLimits?: Partial<RenderLimits> };

  readonly #templates = new Map<string, { updatedAt: number; compiled: CompiledTemplate }>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(store: Store, options: CampaignRunnerOptions) {
    this.#store = store;
    this.#opts = { batchSize: 500, pollMs: 1000, leaseMs: 60_000, requestMessageBytes: 128 * 1024 * 1024, ...options };
  }

  start(): void {
    this.#stopped = false;
    const loop = async () => {
      if (this.#stopped) return;
      try {
        this.#running = this.drain().then(() => undefined);
        await this.#running;
      } catch (err) {
        this.#opts.logger?.error({ err }, 'campaign runner failed; retrying');
      } finally {
        this.#running = null;
        if (!this.#stopped) this.#timer = setTimeout(loop, this.#opts.pollMs);
      }
    };
    this.#timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    // Hand leases back so another node may continue at once.
    await this.#store.db.updateTable('campaigns').set({ lease_owner: null, lease_expires_at: null }).where('lease_owner', '=', this.#opts.nodeId).execute();
  }

  /** Runs batches until no campaign has work; returns how many batches ran. */
  async drain(now = () => Date.now()): Promise<number> {
    let batches = 0;
    while (!this.#stopped && (await this.step(now()))) batches++;
    return batches;
  }

  /** One unit of work: freeze a starting campaign, or send one batch. False when idle. */
  async step(now = Date.now()): Promise<boolean> {
    const c = await this.#claim(now);
    if (!c) return false;
    if (c.started_at === null) {
      await this.#freeze(c, now);
      return true;
    }
    if (c.status === 'approved') {
      await this.#store.db.updateTable('campaigns').set({ status: 'running', updated_at: now }).where('id', '=', c.id).where('status', '=', 'approved').execute();
    }
    return this.#sendBatch(c, now);
  }

  async #claim(now: number): Promise<CampaignTable | null> {
    const candidates = await this.#store.db.selectFrom('campaigns').selectAll()
      .where((eb) => eb.or([eb('status', '=', 'running'), eb.and([eb('status', '=', 'approved'), eb.or([eb('scheduled_at', 'is', null), eb('scheduled_at', '<=', now)])])]))
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', this.#opts.nodeId), eb('lease_expires_at', '<', now)]))
      .orderBy('approved_at').limit(5).execute();
    for (const c of candidates) {
      const res = await this.#store.db.updateTable('campaigns').set({ lease_owner: this.#opts.nodeId, lease_expires_at: now + this.#opts.leaseMs })
        .where('id', '=', c.id).where('status', '=', c.status)
        .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', this.#opts.nodeId), eb('lease_expires_at', '<', now)]))
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) return { ...c, lease_owner: this.#opts.nodeId };
    }
    return null;
  }

  /** Freezes the recipient set: subscribed members matching the filter, in subscriber-id order. */
  async #freeze(c: CampaignTable, now: number): Promise<void> {
    const filter = JSON.parse(c.filter) as Record<string, unknown>;
    await this.#store.transaction(async (trx) => {
      let after = 0;
      let total = 0;
      for (;;) {
        const page = await memberPage(trx, c.list_id, 'subscribed', after, FREEZE_PAGE);
        if (!page.length) break;
        const rows = page.filter((m) => matches(m.attributes, filter)).map((m) => ({ campaign_id: c.id, subscriber_id: m.id, email: m.email, state: null, message_id: null }));
        if (rows.length) await trx.insertInto('campaign_recipients').values(rows).execute();
        total += rows.length;
        after = page[page.length - 1]!.id;
      }
      await trx.updateTable('campaigns').set({ status: 'running', started_at: now, total, checkpoint: 0, updated_at: now }).where('id', '=', c.id).execute();
    });
    this.#opts.logger?.info({ campaign: c.id }, 'campaign recipients frozen');
  }

  async #template(c: CampaignTable): Promise<CompiledTemplate> {
    const t = await this.#store.db.selectFrom('templates').selectAll().where('id', '=', c.template_id).executeTakeFirstOrThrow();
    const cached = this.#templates.get(t.id);
    if (cached && cached.updatedAt === t.updated_at) return cached.compiled;
    const compiled = await compileTemplate({ subject: t.subject, html: t.html, text: t.text, mjml: t.mjml });
    this.#templates.set(t.id, { updatedAt: t.updated_at, compiled });
    return compiled;
  }

  async #sendBatch(c: CampaignTable, now: number): Promise<boolean> {
    const db = this.#store.db;
    const batch = await db.selectFrom('campaign_recipients').selectAll().where('campaign_id', '=', c.id).where('subscriber_id', '>', c.checkpoint)
      .orderBy('subscriber_id').limit(this.#opts.batchSize).execute();
    if (!batch.length) {
      await db.updateTable('campaigns').set({ status: 'completed', finished_at: now, lease_owner: null, lease_expires_at: null, updated_at: now }).where('id', '=', c.id).where('status', '=', 'running').execute();
      return true;
    }
    // Whoever unsubscribed since the start is skipped now, not only at the next campaign.
    const ids = batch.map((r) => r.subscriber_id);
    const still = await db.selectFrom('list_members as m').innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
      .select(['s.id', 's.name', 's.attributes']).where('m.list_id', '=', c.list_id).where('m.status', '=', 'subscribed').where('m.subscriber_id', 'in', ids).execute();
    const current = new Map(still.map((s) => [Number(s.id), s]));
    let compiled: CompiledTemplate;
    try {
      compiled = await this.#template(c);
    } catch (err) {
      // A stored template that no longer compiles (saved by an older version, say) stops the
      // campaign with the reason, rather than failing every poll.
      if (err instanceof AppError) return this.#pause(c, now, `paused: the template does not compile: ${err.message}`);
      throw err;
    }
    const secret = await getPlatformSecret(this.#store);
    const base = this.#opts.publicUrl.replace(/\/$/, '');
    const from = parseFrom(c.from_address);
    const returnPathDomain = (await findSendingDomain(db, from.domain))?.returnPathDomain ?? null;
    const items: EnqueueItem[] = [];
    const plan: { subscriberId: number; state: string; item: number | null }[] = [];
    // One render budget for the batch; parts the batch's messages share are held and stored once.
    const budget = new RenderBudget(this.#opts.renderLimits);
    const splitter = new BodySplitter();
    for (const r of batch) {
      const s = current.get(Number(r.subscriber_id));
      if (!s) {
        plan.push({ subscriberId: r.subscriber_id, state: 'skipped', item: null });
        continue;
      }
      const vars = { ...(JSON.parse(s.attributes) as Record<string, unknown>), email: r.email, name: s.name ?? '' };
      let rendered;
      try {
        rendered = renderMessage(compiled, vars, budget);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // A template too costly for the budget would fail for everyone after it: the campaign
        // stops for its author to fix, instead of marking the rest of the list as errors.
        if (budget.exhausted) return this.#pause(c, now, `paused: ${err.message}`);
        plan.push({ subscriberId: r.subscriber_id, state: 'render_error', item: null });
        continue;
      }
      const messageRef = newMessageIdHeader(from.domain, now);
      const ref = { t: c.tenant_id, e: r.email, l: c.list_id, c: c.id, m: messageRef };
      const html = rendered.html !== null && c.tracking === 1 ? addTracking(rendered.html, base, secret, ref) : rendered.html;
      const raw = await buildMime({
        from: from.name ? `"${from.name.replace(/["\\]/g, '\\$&')}" <${from.address}>` : from.address, to: r.email,
        subject: rendered.subject, html, text: rendered.text, messageId: messageRef,
        headers: { ...unsubscribeHeaders(unsubscribeTargets(base, secret, ref, returnPathDomain)), 'X-Fanout-Campaign': c.id },
      });
      plan.push({ subscriberId: r.subscriber_id, state: 'queued', item: items.length });
      items.push({ tenantId: c.tenant_id, accountId: c.account_id, lane: 'bulk', mailFrom: from.address, recipients: [{ email: r.email }], raw: splitter.split(raw), headerMessageId: messageRef, source: 'campaign' });
      if (splitter.heldBytes > this.#opts.requestMessageBytes) return this.#pause(c, now, `paused: one batch of this campaign's messages comes to more than ${this.#opts.requestMessageBytes} bytes; lower the batch size`);
    }

    const last = batch[batch.length - 1]!.subscriber_id;
    try {
      await this.#store.transaction(async (trx) => {
        const live = await trx.selectFrom('campaigns').select(['status', 'lease_owner']).where('id', '=', c.id).executeTakeFirstOrThrow();
        if (live.status !== 'running' || live.lease_owner !== this.#opts.nodeId) throw new StopBatch();
        const outcomes = items.length ? await writeMessages(trx, items, { now, suppression: suppressionCheck }) : [];
        const refused = outcomes.find((o): o is QuotaRefusal => !o.ok);
        if (refused) throw new QuotaStop(refused.message);
        let enqueued = 0;
        let skipped = 0;
        for (const p of plan) {
          const o = p.item === null ? null : outcomes[p.item];
          const messageId = o && o.ok ? o.result.messageId : null;
          if (messageId) enqueued++;
          else skipped++;
          await trx.updateTable('campaign_recipients').set({ state: p.state, message_id: messageId }).where('campaign_id', '=', c.id).where('subscriber_id', '=', p.subscriberId).execute();
        }
        await trx.updateTable('campaigns').set((eb) => ({
          checkpoint: last, enqueued: eb('enqueued', '+', enqueued), skipped: eb('skipped', '+', skipped), lease_expires_at: now + this.#opts.leaseMs, updated_at: now,
        })).where('id', '=', c.id).execute();
      });
    } catch (err) {
      if (err instanceof StopBatch) return false;
      if (err instanceof QuotaStop) return this.#pause(c, now, `paused: ${err.message}`);
      throw err;
    }
    return true;
  }

  async #pause(c: CampaignTable, now: number, note: string): Promise<boolean> {
    await this.#store.db.updateTable('campaigns').set({ status: 'paused', note, lease_owner: null, lease_expires_at: null, updated_at: now }).where('id', '=', c.id).where('status', '=', 'running').execute();
    this.#opts.logger?.warn({ campaign: c.id, note }, 'campaign paused');
    return true;
  }
}

class StopBatch extends Error {}
class QuotaStop extends Error {}
