import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { invalid, notFound } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { requireName } from '../core/validate.ts';
import type { Executor, Store } from '../store/store.ts';
import { compileTemplate, previewTemplate, RenderBudget } from './render.ts';
import type { RenderedMessage, RenderLimits } from './render.ts';
import type { TemplateTable } from './tables.ts';

export interface TemplateInput {
  name: string;
  subject: string;
  html?: string | null;
  text?: string | null;
  mjml?: string | null;
}

export interface TemplateView {
  id: string;
  tenantId: string;
  name: string;
  subject: string;
  html: string | null;
  text: string | null;
  mjml: string | null;
  createdAt: string;
  updatedAt: string;
}

const view = (t: TemplateTable): TemplateView => ({
  id: t.id, tenantId: t.tenant_id, name: t.name, subject: t.subject, html: t.html, text: t.text, mjml: t.mjml,
  createdAt: new Date(t.created_at).toISOString(), updatedAt: new Date(t.updated_at).toISOString(),
});

/** Parses every part so a broken template is refused when saved, not when a campaign runs. */
async function checkCompiles(input: TemplateInput): Promise<void> {
  await compileTemplate({ subject: input.subject, html: input.html, text: input.text, mjml: input.mjml });
}

export async function createTemplate(store: Store, actor: Actor, tenantId: string, input: TemplateInput): Promise<TemplateView> {
  const name = requireName('name', input.name, 200);
  await checkCompiles(input);
  return store.transaction(async (trx) => {
    if (!(await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).executeTakeFirst())) throw notFound('tenant');
    const now = Date.now();
    const row: TemplateTable = { id: newId('tp', now), tenant_id: tenantId, name, subject: input.subject, html: input.html ?? null, text: input.text ?? null, mjml: input.mjml ?? null, created_by: actor.operator, created_at: now, updated_at: now };
    await trx.insertInto('templates').values(row).execute();
    await recordOperation(trx, actor, { operation: 'template.create', objectType: 'template', objectId: row.id, tenantId, description: `created template ${name}` });
    return view(row);
  });
}

export async function updateTemplate(store: Store, actor: Actor, tenantId: string, id: string, input: TemplateInput): Promise<TemplateView> {
  const name = requireName('name', input.name, 200);
  await checkCompiles(input);
  return store.transaction(async (trx) => {
    await getTemplateRow(trx, tenantId, id);
    await trx.updateTable('templates').set({ name, subject: input.subject, html: input.html ?? null, text: input.text ?? null, mjml: input.mjml ?? null, updated_at: Date.now() }).where('id', '=', id).execute();
    await recordOperation(trx, actor, { operation: 'template.update', objectType: 'template', objectId: id, tenantId, description: `updated template ${name}` });
    return view(await getTemplateRow(trx, tenantId, id));
  });
}

export async function getTemplateRow(db: Executor, tenantId: string | null, id: string): Promise<TemplateTable> {
  let q = db.selectFrom('templates').selectAll().where('id', '=', id);
  if (tenantId) q = q.where('tenant_id', '=', tenantId);
  const t = await q.executeTakeFirst();
  if (!t) throw notFound('template');
  return t;
}

export async function getTemplate(db: Executor, tenantId: string | null, id: string): Promise<TemplateView> {
  return view(await getTemplateRow(db, tenantId, id));
}

export async function listTemplates(db: Executor, tenantId: string | null): Promise<TemplateView[]> {
  let q = db.selectFrom('templates').selectAll().orderBy('name');
  if (tenantId) q = q.where('tenant_id', '=', tenantId);
  return (await q.execute()).map(view);
}

/** Renders the stored template with sample data; a missing variable is a 400 naming it. */
export async function previewStoredTemplate(db: Executor, tenantId: string | null, id: string, sample: Record<string, unknown>, limits?: Partial<RenderLimits>): Promise<RenderedMessage> {
  const t = await getTemplateRow(db, tenantId, id);
  if (typeof sample !== 'object' || sample === null || Array.isArray(sample)) throw invalid('sample data must be an object', [{ field: '/body/vars', message: 'object' }]);
  return previewTemplate({ subject: t.subject, html: t.html, text: t.text, mjml: t.mjml }, sample, new RenderBudget(limits));
}
