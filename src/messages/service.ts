import { createHash } from 'node:crypto';
import type { SubmissionInspect } from '../core/submission-inspect.ts';
import type { Actor } from '../audit/index.ts';
import { AppError, invalid } from '../core/errors.ts';
import type { FieldProblem } from '../core/errors.ts';
import { canSendFrom, findSendingDomain } from '../domains/index.ts';
import { BodySplitter } from '../delivery/index.ts';
import { writeMessages } from '../delivery/index.ts';
import type { EnqueueItem, QuotaRefusal, SuppressionCheck } from '../delivery/index.ts';
import type { Store } from '../store/store.ts';
import { buildMime, compileTemplate, RenderBudget, renderMessage } from '../templates/index.ts';
import type { CompiledTemplate, RenderLimits } from '../templates/index.ts';
import { checkRecipients, newMessageIdHeader, parseFrom } from './compose.ts';
import { loadUploads } from './uploads.ts';

export interface AttachmentInput {
  filename: string;
  contentType?: string;
  /** Base64 bytes, or `uploadId` naming a file uploaded before. */
  content?: string;
  uploadId?: string;
}

export interface RecipientInput {
  email: string;
  name?: string;
  vars?: Record<string, unknown>;
  attachments?: AttachmentInput[];
}

export interface SendRequest {
  from: string;
  subject: string;
  text?: string;
  html?: string;
  mjml?: string;
  stream?: 'transactional' | 'bulk';
  replyTo?: string;
  /** Open and click tracking; off by default for transactional mail, never when the account forbids it. */
  tracking?: boolean;
  vars?: Record<string, unknown>;
  headers?: Record<string, string>;
  tags?: string[];
  attachments?: AttachmentInput[];
  recipients: RecipientInput[];
}

export interface SentRecipient {
  index: number;
  email: string;
  messageId: string;
  recipientId: string;
  /** queued, or suppressed (dropped before sending; the delivery log says why). */
  status: string;
}

export interface SendResponse {
  messages: SentRecipient[];
}

export interface SendContext {
  tenantId: string;
  accountId: string;
  actor: Actor;
  /** Headers added to bulk mail (List-Unsubscribe), made per recipient. */
  bulkHeaders?: (recipient: { email: string; messageRef: string; returnPathDomain: string }) => Record<string, string>;
  /** Adds open and click tracking to a recipient's HTML; absent when tracking is off. */
  trackHtml?: ((html: string, recipient: { email: string; messageRef: string }) => string) | null;
  suppression?: SuppressionCheck | null;
  maxMessageBytes: number;
  /** What rendering every recipient of the request may cost, in all (default: DEFAULT_RENDER_LIMITS). */
  renderLimits?: Partial<RenderLimits>;
  /** Bytes the request's messages may hold in all, shared parts counted once (default 128 MiB). */
  requestMessageBytes?: number;
  /** Extension hooks (`submission.message`): may refuse a message, add headers or change its lane. */
  inspect?: SubmissionInspect;
}

const DEFAULT_REQUEST_MESSAGE_BYTES = 128 * 1024 * 1024;

// Headers Fanout owns: a caller setting them would break signing, bounces or threading.
const RESERVED_HEADERS = new Set(['from', 'to', 'cc', 'bcc', 'subject', 'message-id', 'date', 'return-path', 'received', 'dkim-signature', 'content-type', 'content-transfer-encoding', 'mime-version', 'list-unsubscribe', 'list-unsubscribe-post', 'sender', 'reply-to']);

function checkHeaders(headers: Record<string, string> | undefined): FieldProblem[] {
  return Object.keys(headers ?? {}).filter((h) => RESERVED_HEADERS.has(h.toLowerCase())).map((h) => ({ field: `/body/headers/${h}`, message: `${h} is set by Fanout and cannot be given` }));
}

function decodeAttachment(a: AttachmentInput, field: string, uploads: Map<string, { filename: string; contentType: string; content: Buffer }>): { filename: string; contentType?: string; content: Buffer } {
  if (a.uploadId) {
    const u = uploads.get(a.uploadId);
    if (!u) throw invalid(`${field}: no upload ${a.uploadId}`, [{ field: `${field}/uploadId`, message: 'unknown upload' }]);
    return { filename: a.filename || u.filename, contentType: a.contentType ?? u.contentType, content: u.content };
  }
  if (typeof a.content !== 'string' || !/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(a.content)) {
    throw invalid(`${field}: content must be base64`, [{ field: `${field}/content`, message: 'base64 expected (or give uploadId)' }]);
  }
  return { filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content, 'base64') };
}

/**
 * Renders one message per recipient (their own variables and attachments), then stores all
 * of them in one transaction through the delivery queue: either every recipient is accepted
 * or none is. With an idempotency key, a retried request returns the first answer and
 * sends nothing twice.
 */
export async function sendMessages(store: Store, ctx: SendContext, request: SendRequest, idempotencyKey?: string): Promise<{ response: SendResponse; replayed: boolean }> {
  const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  if (idempotencyKey) {
    const prior = await store.db.selectFrom('idempotency_keys').selectAll().where('tenant_id', '=', ctx.tenantId).where('key', '=', idempotencyKey).executeTakeFirst();
    if (prior) return replay(prior.request_hash, requestHash, prior.response);
  }

  const from = parseFrom(request.from);
  const domain = await findSendingDomain(store.db, from.domain);
  if (!domain || domain.tenantId !== ctx.tenantId) {
    throw invalid(`${from.domain} is not a sending domain of this tenant`, [{ field: '/body/from', message: 'domain not registered for this tenant' }]);
  }
  if (!canSendFrom(domain)) throw new AppError('forbidden', `${from.domain} must pass DNS verification before it can send (an administrator requires it)`);

  const problems = checkHeaders(request.headers);
  const { emails, problems: addressProblems } = checkRecipients(request.recipients);
  problems.push(...addressProblems);
  if (problems.length) throw invalid(problems.map((p) => p.message).join('; '), problems);

  let compiled: CompiledTemplate;
  try {
    compiled = await compileTemplate({ subject: request.subject, html: request.html, text: request.text, mjml: request.mjml });
  } catch (err) {
    if (err instanceof AppError) throw invalid(err.message, err.problems.map((p) => ({ field: `/body/${p.field}`, message: p.message })));
    throw err;
  }

  const uploadIds = [...(request.attachments ?? []), ...request.recipients.flatMap((r) => r.attachments ?? [])].map((a) => a.uploadId).filter((id): id is string => !!id);
  const uploads = await loadUploads(store.db, ctx.tenantId, uploadIds);
  const shared = (request.attachments ?? []).map((a, i) => decodeAttachment(a, `/body/attachments/${i}`, uploads));
  const lane = request.stream ?? 'transactional';
  const replyTo = request.replyTo ? parseFrom(request.replyTo, '/body/replyTo').address : null;
  const items: EnqueueItem[] = [];
  // One budget for the whole request: more recipients do not buy more render time or memory.
  const budget = new RenderBudget(ctx.renderLimits);
  const splitter = new BodySplitter();
  for (const [i, r] of request.recipients.entries()) {
    const vars = { ...(request.vars ?? {}), ...(r.vars ?? {}), email: emails[i] };
    let rendered;
    try {
      rendered = renderMessage(compiled, vars, budget);
    } catch (err) {
      if (err instanceof AppError) throw invalid(`recipient ${i} (${emails[i]}): ${err.message}`, [{ field: `/body/recipients/${i}/vars`, message: err.message }]);
      throw err;
    }
    const messageIdHeader = newMessageIdHeader(from.domain);
    const headers: Record<string, string> = { ...(request.headers ?? {}) };
    if (request.tags?.length) headers['X-Fanout-Tags'] = request.tags.join(', ');
    if (lane === 'bulk' && ctx.bulkHeaders) Object.assign(headers, ctx.bulkHeaders({ email: emails[i]!, messageRef: messageIdHeader, returnPathDomain: domain.returnPathDomain }));
    const tracked = (request.tracking ?? lane === 'bulk') && ctx.trackHtml && rendered.html !== null;
    if (tracked) rendered.html = ctx.trackHtml!(rendered.html!, { email: emails[i]!, messageRef: messageIdHeader });
    const own = (r.attachments ?? []).map((a, j) => decodeAttachment(a, `/body/recipients/${i}/attachments/${j}`, uploads));
    if (replyTo) headers['Reply-To'] = replyTo;
    const raw = await buildMime({
      from: displayAddress(from.name, from.address), to: displayAddress(r.name ?? '', emails[i]!),
      subject: rendered.subject, html: rendered.html, text: rendered.text, headers,
      attachments: [...shared, ...own], messageId: messageIdHeader,
    });
    if (raw.length > ctx.maxMessageBytes) {
      throw invalid(`recipient ${i}: the message is ${raw.length} bytes, over the limit of ${ctx.maxMessageBytes}`, [{ field: `/body/recipients/${i}`, message: 'message too large' }]);
    }
    let queued = raw;
    let queuedLane = lane;
    if (ctx.inspect) {
      const d = await ctx.inspect({ tenantId: ctx.tenantId, accountId: ctx.accountId, lane, mailFrom: from.address, recipients: [emails[i]!], source: 'api', raw });
      // A refusal names the recipient; a temporary one asks the caller to retry (503), a permanent one is final (403).
      if (d.reject) throw new AppError(d.reject.code >= 500 ? 'forbidden' : 'unavailable', `recipient ${i} (${emails[i]}): ${d.reject.code} ${d.reject.enhanced} ${d.reject.message}`, d.reject.code >= 500 ? {} : { retryAfterSeconds: 60 });
      if (d.raw) queued = d.raw;
      if (d.lane) queuedLane = d.lane;
    }
    // Parts every recipient shares (an attachment, an unpersonalised body) are held and stored once.
    items.push({ tenantId: ctx.tenantId, accountId: ctx.accountId, lane: queuedLane, mailFrom: from.address, recipients: [{ email: emails[i]! }], raw: splitter.split(queued), headerMessageId: messageIdHeader, source: 'api', clientIp: ctx.actor.clientIp });
    const maxHeld = ctx.requestMessageBytes ?? DEFAULT_REQUEST_MESSAGE_BYTES;
    if (splitter.heldBytes > maxHeld) {
      throw invalid(`the messages of this request come to more than ${maxHeld} bytes after recipient ${i} (parts they share counted once); send fewer recipients per request`, [{ field: `/body/recipients/${i}`, message: 'the request is too large in all' }]);
    }
  }

  try {
    return await store.transaction(async (trx) => {
      if (idempotencyKey) {
        // Claims the key first: a concurrent retry with the same key fails on the primary key.
        await trx.insertInto('idempotency_keys').values({ tenant_id: ctx.tenantId, key: idempotencyKey, request_hash: requestHash, response: '{}', created_at: Date.now() }).execute();
      }
      const outcomes = await writeMessages(trx, items, { suppression: ctx.suppression ?? null });
      const refused = outcomes.find((o): o is QuotaRefusal => !o.ok);
      if (refused) throw new AppError(refused.reason === 'quota_exceeded' ? 'quota_exceeded' : 'forbidden', refused.message);
      const messages: SentRecipient[] = [];
      for (const [i, o] of outcomes.entries()) {
        if (!o.ok) continue;
        const recipientId = o.result.recipientIds[0]!;
        const row = await trx.selectFrom('delivery_recipients').select('state').where('id', '=', recipientId).executeTakeFirstOrThrow();
        messages.push({ index: i, email: emails[i]!, messageId: o.result.messageId, recipientId, status: row.state });
      }
      const response: SendResponse = { messages };
      if (idempotencyKey) {
        await trx.updateTable('idempotency_keys').set({ response: JSON.stringify(response) }).where('tenant_id', '=', ctx.tenantId).where('key', '=', idempotencyKey).execute();
      }
      return { response, replayed: false };
    });
  } catch (err) {
    if (idempotencyKey && !(err instanceof AppError)) {
      const prior = await store.db.selectFrom('idempotency_keys').selectAll().where('tenant_id', '=', ctx.tenantId).where('key', '=', idempotencyKey).executeTakeFirst();
      if (prior) return replay(prior.request_hash, requestHash, prior.response);
    }
    throw err;
  }
}

/** `"Name" <address>`: MailComposer encodes a non-ASCII name as an RFC 2047 word. */
function displayAddress(name: string, address: string): string {
  return name ? `"${name.replace(/["\\]/g, '\\$&').replace(/[\r\n]/g, ' ')}" <${address}>` : address;
}

function replay(priorHash: string, requestHash: string, response: string): { response: SendResponse; replayed: boolean } {
  if (priorHash !== requestHash) throw new AppError('conflict', 'this Idempotency-Key was used before with a different request');
  return { response: JSON.parse(response) as SendResponse, replayed: true };
}
