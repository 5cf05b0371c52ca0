import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { getAccount } from '../accounts/service.ts';
import { invalid, notFound } from '../core/errors.ts';
import type { RouteModule } from '../http/app.ts';
import { scopeOf } from '../http/access.ts';
import { actorOf } from '../http/auth.ts';
import { closed, HeaderText, IdParams, Vars } from '../http/schemas.ts';
import { TEMPLATE_MAX_CHARS, TEMPLATE_MAX_MARKUP } from '../templates/liquid.ts';
import { sendMessages } from '../messages/service.ts';
import { suppressionCheck } from '../bounces/suppressions.ts';
import { previewTemplate, RenderBudget } from '../templates/render.ts';
import { approveCampaign, cancelCampaign, createCampaign, getCampaign, listCampaigns, pauseCampaign, rejectCampaign, resumeCampaign, submitCampaign } from './service.ts';
import { createTemplate, getTemplate, getTemplateRow, listTemplates, previewStoredTemplate, updateTemplate } from './templates.ts';

const TenantQuery = Type.Object({ tenantId: Type.Optional(Type.String({ maxLength: 64 })) }, closed);
const Part = Type.Optional(Type.String({ maxLength: TEMPLATE_MAX_CHARS, description: `at most ${TEMPLATE_MAX_CHARS.toLocaleString('en')} characters and ${TEMPLATE_MAX_MARKUP.toLocaleString('en')} Liquid tags and outputs` }));
const TemplateBody = Type.Object({
  tenantId: Type.Optional(Type.String({ maxLength: 64, description: 'administrators: the tenant; operators use their own' })),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  subject: HeaderText({ minLength: 1, maxLength: 2000 }),
  html: Part,
  text: Part,
  mjml: Part,
}, closed);
const PreviewBody = Type.Object({ vars: Type.Optional(Vars('sample variables')) }, closed);
const DraftPreviewBody = Type.Object({
  subject: HeaderText({ minLength: 1, maxLength: 2000 }),
  html: Part,
  text: Part,
  mjml: Part,
  vars: Type.Optional(Vars('sample variables')),
}, closed);
const TestSendBody = Type.Object({
  accountId: Type.String({ maxLength: 64 }), from: HeaderText({ maxLength: 320 }), to: Type.String({ maxLength: 254 }), vars: Type.Optional(Vars('sample variables')),
}, closed);
const CampaignBody = Type.Object({
  tenantId: Type.Optional(Type.String({ maxLength: 64 })),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  accountId: Type.String({ maxLength: 64 }),
  listId: Type.String({ maxLength: 64 }),
  templateId: Type.String({ maxLength: 64 }),
  from: HeaderText({ minLength: 3, maxLength: 320 }),
  filter: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]), { maxProperties: 50, propertyNames: { maxLength: 100 } })),
  scheduledAt: Type.Optional(Type.String({ maxLength: 40, description: 'local time in `timezone` (2026-12-01T09:00) or an ISO instant with offset' })),
  timezone: Type.Optional(Type.String({ maxLength: 64, description: 'IANA time zone, default UTC' })),
  tracking: Type.Optional(Type.Boolean()),
}, closed);

const READERS = ['administrator', 'auditor', 'support', 'operator'] as const;
const WRITERS = ['administrator', 'operator'] as const;

/** The tenant a write goes to: the operator's own, or the one an administrator names. */
function writeTenant(scope: string | null, given: string | undefined): string {
  if (scope) {
    if (given && given !== scope) throw notFound('tenant');
    return scope;
  }
  if (!given) throw invalid('tenantId is required for administrators', [{ field: '/body/tenantId', message: 'required' }]);
  return given;
}

export const campaignRoutes: RouteModule = (app, { store, config }) => {
  app.get<{ Querystring: Static<typeof TenantQuery> }>('/templates', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['templates'], querystring: TenantQuery } }, async (req) => ({ items: await listTemplates(store.db, scopeOf(req) ?? req.query.tenantId ?? null) }));
  app.post<{ Body: Static<typeof TemplateBody> }>('/templates', { config: { access: { roles: WRITERS, tenant: 'caller' } }, schema: { tags: ['templates'], summary: 'Save a Liquid/MJML template (refused when it does not compile)', body: TemplateBody } }, async (req, reply) => {
    const { tenantId, ...input } = req.body;
    return reply.code(201).send(await createTemplate(store, actorOf(req), writeTenant(scopeOf(req), tenantId), input));
  });
  app.get<{ Params: Static<typeof IdParams> }>('/templates/:id', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['templates'], params: IdParams } }, async (req) => getTemplate(store.db, scopeOf(req), req.params.id));
  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof TemplateBody> }>('/templates/:id', { config: { access: { roles: WRITERS, tenant: 'caller' } }, schema: { tags: ['templates'], params: IdParams, body: TemplateBody } }, async (req) => {
    const t = await getTemplateRow(store.db, scopeOf(req), req.params.id);
    const { tenantId: _ignored, ...input } = req.body;
    return updateTemplate(store, actorOf(req), t.tenant_id, t.id, input);
  });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof PreviewBody> }>('/templates/:id/preview', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['templates'], summary: 'Render with sample data; a missing variable is a 400 naming it', params: IdParams, body: PreviewBody } }, async (req) =>
    previewStoredTemplate(store.db, scopeOf(req), req.params.id, req.body.vars ?? {}, config.templates));
  // Renders what an author is still typing (the console's live preview); nothing is stored.
  app.post<{ Body: Static<typeof DraftPreviewBody> }>('/templates/preview', { config: { access: { roles: WRITERS, tenant: 'none' } }, schema: { tags: ['templates'], summary: 'Render unsaved template content with sample data; a missing variable is a 400 naming it', body: DraftPreviewBody } }, async (req) => {
    const { vars, ...source } = req.body;
    return previewTemplate(source, vars ?? {}, new RenderBudget(config.templates));
  });
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof TestSendBody> }>('/templates/:id/test-send', { config: { access: { roles: WRITERS, tenant: 'caller' } }, schema: { tags: ['templates'], summary: 'Send the template to one address', params: IdParams, body: TestSendBody } }, async (req, reply) => {
    const t = await getTemplateRow(store.db, scopeOf(req), req.params.id);
    const account = await getAccount(store.db, req.body.accountId);
    if (account.tenantId !== t.tenant_id) throw invalid('accountId is not a sending account of the template\'s tenant', [{ field: '/body/accountId', message: 'unknown account' }]);
    const { response } = await sendMessages(store, { tenantId: t.tenant_id, accountId: account.id, actor: actorOf(req), maxMessageBytes: config.smtp.maxMessageBytes, suppression: suppressionCheck, renderLimits: config.templates, requestMessageBytes: config.templates.requestMessageBytes }, {
      from: req.body.from, subject: `[TEST] ${t.subject}`, html: t.html ?? undefined, text: t.text ?? undefined, mjml: t.mjml ?? undefined,
      stream: 'transactional', recipients: [{ email: req.body.to, vars: req.body.vars ?? {} }],
    });
    return reply.code(202).send(response);
  });

  app.get<{ Querystring: Static<typeof TenantQuery> }>('/campaigns', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['campaigns'], querystring: TenantQuery } }, async (req) => ({ items: await listCampaigns(store.db, scopeOf(req) ?? req.query.tenantId ?? null) }));
  app.post<{ Body: Static<typeof CampaignBody> }>('/campaigns', { config: { access: { roles: WRITERS, tenant: 'caller' } }, schema: { tags: ['campaigns'], summary: 'Create a campaign (draft) from a list and a template', body: CampaignBody } }, async (req, reply) => {
    const { tenantId, ...input } = req.body;
    return reply.code(201).send(await createCampaign(store, actorOf(req), writeTenant(scopeOf(req), tenantId), input));
  });
  app.get<{ Params: Static<typeof IdParams> }>('/campaigns/:id', { config: { access: { roles: READERS, tenant: 'caller' } }, schema: { tags: ['campaigns'], summary: 'A campaign with live progress', params: IdParams } }, async (req) => getCampaign(store.db, scopeOf(req), req.params.id));
  const action = (path: string, roles: readonly ('administrator' | 'operator' | 'auditor')[], fn: typeof submitCampaign, summary: string) =>
    app.post<{ Params: Static<typeof IdParams> }>(`/campaigns/:id/${path}`, { config: { access: { roles, tenant: 'caller' } }, schema: { tags: ['campaigns'], summary, params: IdParams } }, async (req) => {
      return fn(store, actorOf(req), scopeOf(req), req.params.id);
    });
  action('submit', WRITERS, submitCampaign, 'Ask for approval');
  action('approve', ['administrator', 'auditor'], approveCampaign, 'Approve (four eyes: not by the author); it then starts at its scheduled time');
  action('reject', ['administrator', 'auditor'], rejectCampaign, 'Send back to draft');
  action('pause', WRITERS, pauseCampaign, 'Pause sending');
  action('resume', WRITERS, resumeCampaign, 'Resume sending');
  action('cancel', WRITERS, cancelCampaign, 'Cancel, withdrawing queued mail');
};
