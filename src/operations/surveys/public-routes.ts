import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import type { OpsDeps } from '../context.ts';
import { respondByLink, SCORE_FIELDS, surveyForToken } from './service.ts';

const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
// Form posts arrive as text; the service checks each score and names the field that is wrong.
const Answer = Type.Object({
  satisfaction: Type.Union([Type.Integer(), Type.String({ maxLength: 2 })]), attitude: Type.Union([Type.Integer(), Type.String({ maxLength: 2 })]),
  technical: Type.Union([Type.Integer(), Type.String({ maxLength: 2 })]), effect: Type.Union([Type.Integer(), Type.String({ maxLength: 2 })]),
  comments: Type.Optional(Type.String({ maxLength: 5000 })),
}, { additionalProperties: false });

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const LABELS: Record<(typeof SCORE_FIELDS)[number], string> = { satisfaction: '服务满意度 Service satisfaction', attitude: '服务态度 Attitude', technical: '技术水平 Technical level', effect: '服务效果 Effect' };

function page(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:640px;margin:32px auto;padding:0 16px}label{display:block;margin:14px 0 4px}fieldset{border:0;padding:0}small{color:#555}</style></head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

/** GET shows the 客户满意度调查表; POST (form or JSON) answers it once. */
export function surveyPublicRoutes(app: FastifyInstance, deps: OpsDeps): void {
  app.get<{ Params: Static<typeof TokenParams> }>('/survey/:token', { schema: { hide: true, params: TokenParams } }, async (req, reply) => {
    const found = await surveyForToken(deps, req.params.token);
    if (!found) throw new AppError('forbidden', 'this survey link is not valid');
    const { survey, ticket } = found;
    if (survey.respondedAt) return reply.code(409).type('text/html; charset=utf-8').send(page('客户满意度调查表', '<p>此调查已提交，谢谢。 This survey has been answered already. Thank you.</p>'));
    if (Date.parse(survey.expiresAt) <= deps.now()) return reply.code(403).type('text/html; charset=utf-8').send(page('客户满意度调查表', '<p>链接已过期。 This link has expired.</p>'));
    const options = [5, 4, 3, 2, 1, 0].map((n) => `<option value="${n}">${n}</option>`).join('');
    const fields = SCORE_FIELDS.map((f) => `<label for="${f}">${LABELS[f]}</label><select id="${f}" name="${f}" required>${options}</select>`).join('');
    return reply.type('text/html; charset=utf-8').send(page('客户满意度调查表 / Satisfaction survey', `<p>${esc(ticket.id)} · ${esc(ticket.priority)} · ${esc(ticket.title)}</p>
<form method="post"><fieldset>${fields}<label for="comments">意见与建议 Comments</label><textarea id="comments" name="comments" rows="5" cols="60"></textarea></fieldset>
<p><small>5 很好 very good · 4 好 good · 3 一般 fair · 2 较差 poor · 1 很差 very poor · 0 恶性事件 critical incident</small></p><button type="submit">提交 Submit</button></form>`));
  });
  app.post<{ Params: Static<typeof TokenParams>; Body: Static<typeof Answer> }>('/survey/:token', { schema: { hide: true, params: TokenParams, body: Answer } }, async (req, reply) => {
    const survey = await respondByLink(deps, req.params.token, req.body as unknown as Record<string, unknown>, req.ip);
    if ((req.headers['content-type'] ?? '').startsWith('application/json')) return reply.code(201).send(survey);
    return reply.code(201).type('text/html; charset=utf-8').send(page('客户满意度调查表', '<p>谢谢您的评价。 Thank you for your answers.</p>'));
  });
}
