import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { AppError, invalid, notFound } from '../core/errors.ts';
import { getPlatformSecret } from '../core/secrets.ts';
import { messageRecipients } from '../delivery/queue/events.ts';
import type { RouteModule } from '../http/app.ts';
import { principalOf, scopeOf } from '../http/access.ts';
import { actorOf } from '../http/auth.ts';
import { closed, CONTENT_TYPE_PATTERN, HEADER_NAME_PATTERN, HeaderText, IdParams, Vars } from '../http/schemas.ts';
import { TEMPLATE_MAX_CHARS, TEMPLATE_MAX_MARKUP } from '../templates/liquid.ts';
import { getAccount } from '../accounts/service.ts';
import { addTracking, unsubscribeTargets } from '../tracking/links-signed.ts';
import { suppressionCheck } from '../bounces/suppressions.ts';
import { unsubscribeHeaders } from '../tracking/headers.ts';
import { sendMessages } from './service.ts';
import type { SendRequest } from './service.ts';
import { createUpload } from './uploads.ts';
import { getTemplateRow } from '../campaigns/templates.ts';
import type { Executor } from '../store/store.ts';

/** Inline content, or a stored template's parts when `templateId` is given (never both). */
async function withTemplate(db: Executor, tenantId: string, body: Static<typeof SendBody>): Promise<SendRequest> {
  const { templateId, ...rest } = body;
  if (!templateId) {
    if (!rest.subject) throw invalid('give a subject (or a templateId)', [{ field: '/body/subject', message: 'required without templateId' }]);
    return rest as SendRequest;
  }
  if (rest.subject || rest.html || rest.text || rest.mjml) throw invalid('give either templateId or inline subject/html/text/mjml, not both', [{ field: '/body/templateId', message: 'conflicts with inline content' }]);
  const t = await getTemplateRow(db, tenantId, templateId).catch(() => {
    throw invalid(`templateId ${templateId} is not a template of this tenant`, [{ field: '/body/templateId', message: 'unknown template' }]);
  });
  return { ...rest, subject: t.subject, html: t.html ?? undefined, text: t.text ?? undefined, mjml: t.mjml ?? undefined };
}

// Base64 of the largest attachment a message may hold (smtp.maxMessageBytes defaults to 30 MB).
const MAX_BASE64 = 45_000_000;

const Attachment = Type.Object({
  filename: HeaderText({ minLength: 1, maxLength: 255 }),
  contentType: Type.Optional(Type.String({ maxLength: 255, pattern: CONTENT_TYPE_PATTERN, description: 'type/subtype, optionally with parameters' })),
  content: Type.Optional(Type.String({ maxLength: MAX_BASE64, description: 'base64 bytes' })),
  uploadId: Type.Optional(Type.String({ maxLength: 64, description: 'a file from POST /uploads' })),
}, closed);

const Recipient = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 254 }),
  name: Type.Optional(HeaderText({ maxLength: 200 })),
  vars: Type.Optional(Vars()),
  attachments: Type.Optional(Type.Array(Attachment, { maxItems: 20 })),
}, closed);

const Template = (description: string) => Type.Optional(Type.String({ maxLength: TEMPLATE_MAX_CHARS, description: `${description} (at most ${TEMPLATE_MAX_CHARS.toLocaleString('en')} characters and ${TEMPLATE_MAX_MARKUP.toLocaleString('en')} Liquid tags and outputs)` }));

export const SendBody = Type.Object({
  from: HeaderText({ minLength: 3, maxLength: 320 }),
  subject: Type.Optional(HeaderText({ minLength: 1, maxLength: 2000, description: 'Liquid template (required unless templateId is given)' })),
  templateId: Type.Optional(Type.String({ maxLength: 64, description: 'a stored template (POST /templates) instead of inline subject/html/text' })),
  text: Template('Liquid template'),
  html: Template('Liquid template'),
  mjml: Template('MJML layout with Liquid; instead of html'),
  stream: Type.Optional(Type.Union([Type.Literal('transactional'), Type.Literal('bulk')], { default: 'transactional' })),
  replyTo: Type.Optional(HeaderText({ maxLength: 320 })),
  tracking: Type.Optional(Type.Boolean({ description: 'open and click tracking (default: on for bulk, off for transactional; never when the account disables it)' })),
  vars: Type.Optional(Vars()),
  headers: Type.Optional(Type.Record(Type.String(), HeaderText({ maxLength: 2000 }), { maxProperties: 50, propertyNames: { pattern: HEADER_NAME_PATTERN } })),
  tags: Type.Optional(Type.Array(HeaderText({ maxLength: 100 }), { maxItems: 20 })),
  attachments: Type.Optional(Type.Array(Attachment, { maxItems: 20 })),
  recipients: Type.Array(Recipient, { minItems: 1, maxItems: 1000 }),
}, closed);

const UploadBody = Type.Object({
  filename: HeaderText({ minLength: 1, maxLength: 255 }),
  contentType: Type.Optional(Type.String({ maxLength: 255, pattern: CONTENT_TYPE_PATTERN })),
  content: Type.String({ maxLength: MAX_BASE64 }),
}, closed);
const Headers = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) });

export const messageRoutes: RouteModule = (app, { store, config }) => {
  app.post<{ Body: Static<typeof SendBody>; Headers: Static<typeof Headers> }>('/messages', { config: { access: { roles: ['account'], tenant: 'caller' } },
    schema: {
      tags: ['messages'], summary: 'Send one message or a batch (up to 1,000 recipients, each with its own variables)',
      description: 'subject, text, html and mjml are Liquid templates over each recipient\'s vars. Authenticate with the sending account\'s API key. With an Idempotency-Key header a retried request sends nothing twice.',
      body: SendBody, headers: Headers,
    },
  }, async (req, reply) => {
    const p = principalOf(req);
    if (p.kind !== 'apikey') throw new AppError('forbidden', 'sending needs an account API key');
    const account = await getAccount(store.db, p.accountId);
    const secret = await getPlatformSecret(store);
    const base = config.http.publicUrl.replace(/\/$/, '');
    const { response, replayed } = await sendMessages(store, {
      tenantId: p.tenantId, accountId: p.accountId, actor: actorOf(req), maxMessageBytes: config.smtp.maxMessageBytes, renderLimits: config.templates, requestMessageBytes: config.templates.requestMessageBytes,
      bulkHeaders: ({ email, messageRef, returnPathDomain }) => unsubscribeHeaders(unsubscribeTargets(base, secret, { t: p.tenantId, e: email, m: messageRef }, returnPathDomain)),
      trackHtml: account.tracking ? (html, { email, messageRef }) => addTracking(html, base, secret, { t: p.tenantId, e: email, m: messageRef }) : null,
      suppression: suppressionCheck,
    }, await withTemplate(store.db, p.tenantId, req.body), req.headers['idempotency-key']);
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(replayed ? 200 : 202).send(response);
  });

  app.get<{ Params: Static<typeof IdParams> }>('/messages/:id', { config: { access: { roles: ['administrator', 'auditor', 'support', 'operator', 'account'], tenant: 'caller' } }, schema: { tags: ['messages'], summary: 'Delivery state of every recipient of a message', params: IdParams } }, async (req) => {
    const recipients = await messageRecipients(store.db, req.params.id, scopeOf(req));
    if (!recipients.length) throw notFound('message');
    return { id: req.params.id, recipients };
  });

  app.post<{ Body: Static<typeof UploadBody> }>('/uploads', { config: { access: { roles: ['account', 'operator', 'administrator'], tenant: 'caller' } }, schema: { tags: ['messages'], summary: 'Upload a file (e.g. a PDF statement) to attach by uploadId', body: UploadBody } }, async (req, reply) => {
    const tenantId = scopeOf(req);
    if (!tenantId) throw new AppError('validation', 'uploads belong to a tenant: use an account API key or an operator login');
    return reply.code(201).send(await createUpload(store, actorOf(req), tenantId, req.body, config.smtp.maxMessageBytes));
  });

};
