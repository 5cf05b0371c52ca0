import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { getPlatformSecret } from '../core/secrets.ts';
import type { RouteModule } from '../http/app.ts';
import { confirmByToken } from './optin.ts';
import type { ConfirmOutcome } from './optin.ts';

const TokenParams = Type.Object({ token: Type.String({ minLength: 10, maxLength: 4096 }) });

const TEXT = {
  'zh-CN': {
    title: '订阅确认', confirmed: (l: string) => `您已确认订阅「${l}」，谢谢。`, subscribed: (l: string) => `您已订阅「${l}」。`,
    other: (l: string) => `您对「${l}」的订阅状态未改变。`, invalid: '此确认链接无效或已过期。',
  },
  en: {
    title: 'Subscription confirmation', confirmed: (l: string) => `Thank you: your subscription to "${l}" is confirmed.`, subscribed: (l: string) => `You are subscribed to "${l}".`,
    other: (l: string) => `Your subscription to "${l}" was not changed.`, invalid: 'This confirmation link is not valid or has expired.',
  },
} as const;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const lang = (req: FastifyRequest): 'zh-CN' | 'en' => (/^\s*en/i.test(String(req.headers['accept-language'] ?? '')) ? 'en' : 'zh-CN');

export function confirmPage(l: 'zh-CN' | 'en', r: ConfirmOutcome): string {
  const t = TEXT[l];
  const message = r.outcome === 'invalid' ? t.invalid : r.outcome === 'confirmed' ? t.confirmed(r.listName) : r.status === 'subscribed' ? t.subscribed(r.listName) : t.other(r.listName);
  return `<!doctype html><html lang="${l}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">`
    + `<title>${t.title}</title></head><body style="font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em"><h1>${t.title}</h1><p>${escape(message)}</p></body></html>`;
}

/** The double opt-in confirmation link's target, outside /api/v1: one click confirms. */
export const subscriberPublicRoutes: RouteModule = (app, { store }) => {
  app.get<{ Params: Static<typeof TokenParams> }>('/s/confirm/:token', { schema: { hide: true, params: TokenParams } }, async (req, reply) => {
    const r = await confirmByToken(store, await getPlatformSecret(store), req.params.token, req.ip);
    return reply.code(r.outcome === 'invalid' ? 400 : 200).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(confirmPage(lang(req), r));
  });
};
