import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { getPlatformSecret } from '../store/platform-secret.ts';
import { formList, makeFormHandler } from './form.ts';
import type { RouteModule } from '../http/app.ts';
import { confirmByToken } from './optin.ts';
import type { ConfirmOutcome } from './optin.ts';

const TokenParams = Type.Object({ token: Type.String({ minLength: 10, maxLength: 4096 }) });
const ListParams = Type.Object({ listId: Type.String({ minLength: 1, maxLength: 64 }) });

const FORM = {
  'zh-CN': {
    title: '订阅', email: '电子邮箱', name: '姓名（可选）', button: '订阅', missing: '此订阅表单不存在。',
    sent: '请查收确认邮件，点击其中的链接完成订阅。', done: '订阅成功，谢谢。', limited: '请求过于频繁，请稍后再试。', bad: (r: string) => `电子邮箱无效：${r}`,
  },
  en: {
    title: 'Subscribe', email: 'Email', name: 'Name (optional)', button: 'Subscribe', missing: 'This subscribe form does not exist.',
    sent: 'Please check your inbox and click the link in the confirmation mail.', done: 'You are subscribed. Thank you.', limited: 'Too many requests; please try again later.', bad: (r: string) => `The address is not valid: ${r}`,
  },
} as const;

function page(l: 'zh-CN' | 'en', title: string, inner: string): string {
  return `<!doctype html><html lang="${l}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">`
    + `<title>${escape(title)}</title></head><body style="font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em">${inner}</body></html>`;
}

export function formPage(l: 'zh-CN' | 'en', listName: string, action: string, message = ''): string {
  const t = FORM[l];
  return page(l, `${t.title} – ${listName}`, `<h1>${escape(listName)}</h1>${message ? `<p role="alert">${escape(message)}</p>` : ''}`
    + `<form method="post" action="${escape(action)}"><p><label>${t.email}<br><input type="email" name="email" required maxlength="254"></label></p>`
    + `<p><label>${t.name}<br><input type="text" name="name" maxlength="256"></label></p><p><button type="submit">${t.button}</button></p></form>`);
}

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

/**
 * Recipient-facing pages outside /api/v1: the hosted subscribe form of a list (GET shows it,
 * POST signs up, rate-limited) and the double opt-in confirmation link, where one click confirms.
 */
export const subscriberPublicRoutes: RouteModule = (app, { store, config }) => {
  const handle = makeFormHandler({ store, publicUrl: config.http.publicUrl, maxMessageBytes: config.smtp.maxMessageBytes });
  const html = 'text/html; charset=utf-8';

  app.get<{ Params: Static<typeof ListParams> }>('/s/:listId', { schema: { hide: true, params: ListParams } }, async (req, reply) => {
    const l = lang(req);
    const list = await formList(store, req.params.listId).catch(() => null);
    if (!list) return reply.code(404).type(html).send(page(l, FORM[l].title, `<p>${FORM[l].missing}</p>`));
    return reply.type(html).send(formPage(l, list.name, `/s/${list.id}`));
  });
  app.post<{ Params: Static<typeof ListParams> }>('/s/:listId', { schema: { hide: true, params: ListParams } }, async (req, reply) => {
    const l = lang(req);
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as { email?: unknown; name?: unknown };
    try {
      const r = await handle(req.params.listId, body, req.ip);
      return reply.type(html).send(page(l, FORM[l].title, `<p>${r.doubleOptIn ? FORM[l].sent : FORM[l].done}</p>`));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (err.kind === 'not_found') return reply.code(404).type(html).send(page(l, FORM[l].title, `<p>${FORM[l].missing}</p>`));
      if (err.kind === 'rate_limited') return reply.code(429).header('retry-after', String(err.retryAfterSeconds ?? 60)).type(html).send(page(l, FORM[l].title, `<p>${FORM[l].limited}</p>`));
      if (err.kind === 'validation' && err.problems[0]?.field === 'email') {
        const list = await formList(store, req.params.listId);
        return reply.code(400).type(html).send(formPage(l, list.name, `/s/${list.id}`, FORM[l].bad(err.message)));
      }
      throw err;
    }
  });

  app.get<{ Params: Static<typeof TokenParams> }>('/s/confirm/:token', { schema: { hide: true, params: TokenParams } }, async (req, reply) => {
    const r = await confirmByToken(store, await getPlatformSecret(store), req.params.token, req.ip);
    return reply.code(r.outcome === 'invalid' ? 400 : 200).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(confirmPage(lang(req), r));
  });
};
