import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { getPlatformSecret } from '../store/platform-secret.ts';
import type { RouteModule } from '../http/app.ts';
import type { Store } from '../store/store.ts';
import { applyUnsubscribe } from './unsubscribe.ts';
import { emitWebhookEvents } from '../webhooks/index.ts';
import { verifyToken } from '../core/signed-tokens.ts';
import type { RecipientRef } from './links-signed.ts';
import { unsubscribePage } from './pages.ts';

const TokenParams = Type.Object({ token: Type.String({ minLength: 10, maxLength: 4096 }) });
// A transparent 1×1 GIF.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

async function record(store: Store, req: FastifyRequest, kind: 'open' | 'click', ref: RecipientRef, url: string | null = null): Promise<void> {
  const at = Date.now();
  await store.transaction(async (trx) => {
    await trx.insertInto('tracking_events').values({
      at, tenant_id: ref.t, kind, email: ref.e, message_id: ref.m ?? null, campaign_id: ref.c ?? null, url,
      user_agent: (req.headers['user-agent'] ?? '').slice(0, 500) || null, ip: req.ip,
    }).execute();
    await emitWebhookEvents(trx, [{ tenantId: ref.t, at, type: kind === 'open' ? 'message.opened' : 'message.clicked', data: { recipient: ref.e, messageRef: ref.m ?? null, campaignId: ref.c ?? null, ...(url ? { url } : {}) } }]);
  });
}

const lang = (req: FastifyRequest): 'zh-CN' | 'en' => (/^\s*en/i.test(String(req.headers['accept-language'] ?? '')) ? 'en' : 'zh-CN');

/**
 * Recipient-facing endpoints outside /api/v1: one-click unsubscribe (RFC 8058 POST), the
 * confirmation page (GET never unsubscribes by itself: link scanners follow GETs), the open
 * pixel and the click redirect. Every token is signed; a tampered one is refused and a click
 * can only go where the signed token says (no open redirect).
 */
export const publicTrackingRoutes: RouteModule = (app, { store }) => {
  {
    const refFor = async (token: string, purpose: 'unsubscribe' | 'open' | 'click') => verifyToken<RecipientRef & { u?: string }>(await getPlatformSecret(store), purpose, token);
    const refused = (reply: FastifyReply, req: FastifyRequest) => reply.code(400).type('text/html; charset=utf-8').send(unsubscribePage(lang(req), 'invalid'));

    app.get<{ Params: Static<typeof TokenParams> }>('/u/:token', { schema: { hide: true, params: TokenParams } }, async (req, reply) => {
      const ref = await refFor(req.params.token, 'unsubscribe');
      if (!ref) return refused(reply, req);
      return reply.type('text/html; charset=utf-8').send(unsubscribePage(lang(req), 'confirm', { email: ref.e, action: `/u/${req.params.token}` }));
    });
    app.post<{ Params: Static<typeof TokenParams> }>('/u/:token', { schema: { hide: true, params: TokenParams } }, async (req, reply) => {
      const ref = await refFor(req.params.token, 'unsubscribe');
      if (!ref) return refused(reply, req);
      // RFC 8058 one-click sends "List-Unsubscribe=One-Click"; the page's button posts a form.
      const oneClick = typeof req.body === 'object' && req.body !== null && (req.body as Record<string, unknown>)['List-Unsubscribe'] === 'One-Click';
      await applyUnsubscribe(store, ref, oneClick ? 'one-click' : 'link', req.ip);
      return reply.type('text/html; charset=utf-8').send(unsubscribePage(lang(req), 'done', { email: ref.e }));
    });
    app.get<{ Params: Static<typeof TokenParams> }>('/t/o/:token', { schema: { hide: true, params: TokenParams } }, async (req, reply) => {
      const ref = await refFor(req.params.token.replace(/\.gif$/, ''), 'open');
      if (ref) await record(store, req, 'open', ref);
      return reply.header('cache-control', 'no-store').type('image/gif').send(PIXEL);
    });
    app.get<{ Params: Static<typeof TokenParams> }>('/t/c/:token', { schema: { hide: true, params: TokenParams } }, async (req, reply) => {
      const ref = await refFor(req.params.token, 'click');
      if (!ref || typeof ref.u !== 'string' || !/^https?:\/\//i.test(ref.u)) return reply.code(400).type('text/plain').send('This link is not valid.');
      let target: string;
      try {
        // Percent-encodes what a header may not carry (a rendered variable in Chinese, say).
        target = new URL(ref.u).href;
      } catch {
        return reply.code(400).type('text/plain').send('This link is not valid.');
      }
      await record(store, req, 'click', ref, target);
      return reply.redirect(target, 302);
    });
  }
};
