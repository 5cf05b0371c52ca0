import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { AppError } from '../core/errors.ts';
import { buildMime, compileTemplate, previewTemplate, renderMessage } from './render.ts';

const rejectsWith = async (p: Promise<unknown>, re: RegExp, field?: string) => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
    assert.equal(err.kind, 'validation');
    assert.match(err.message, re);
    if (field) assert.equal(err.problems[0]?.field, field);
    return true;
  });
};

test('variables, conditions and loops render; HTML output is escaped, text and subject are not', async () => {
  const c = await compileTemplate({
    subject: '{{ name }}，您的{{ month }}月账单',
    html: '<p>尊敬的 {{ name }}</p>{% if vip %}<p>VIP</p>{% endif %}<ul>{% for t in items %}<li>{{ t.desc }}: {{ t.amount }}</li>{% endfor %}</ul>',
  });
  const r = renderMessage(c, { name: '张三 <b>', month: 11, vip: true, items: [{ desc: '餐饮', amount: '12.50' }, { desc: 'ATM', amount: '100' }] });
  assert.equal(r.subject, '张三 <b>，您的11月账单');
  assert.equal(r.html, '<p>尊敬的 张三 &lt;b&gt;</p><p>VIP</p><ul><li>餐饮: 12.50</li><li>ATM: 100</li></ul>');
  assert.match(r.text, /尊敬的 张三 <b>/);
  assert.match(r.text, /VIP/);
  assert.match(r.text, /餐饮: 12\.50[\s\S]*ATM: 100/);
  const plain = renderMessage(c, { name: 'Li', month: 1, items: [] });
  assert.doesNotMatch(plain.text, /VIP/, 'an absent flag is false in conditions, not an error');
});

test('the text part is derived once from the HTML template, and per message when it cannot be', async () => {
  const c = await compileTemplate({ subject: 's', html: '<h1>Hello {{ name }}</h1><p><a href="https://bank.test/s?id={{ id }}">statement</a></p>' });
  assert.ok(c.text, 'a text template was derived');
  const r = renderMessage(c, { name: 'Wang', id: 7 });
  assert.match(r.text, /Hello Wang/, 'headings keep their case');
  assert.match(r.text, /statement <https:\/\/bank\.test\/s\?id=7>/);
  // A loop over table rows keeps one line per row.
  const t = await compileTemplate({ subject: 's', html: '<table>{% for r in rows %}<tr><td>{{ r }}</td></tr>{% endfor %}</table><p>end</p>' });
  assert.ok(t.text);
  assert.equal(renderMessage(t, { rows: ['a1', 'b2'] }).text, 'a1\nb2\n\nend');
  // A tag inside <style> is dropped by the converter: each message is converted instead.
  const s = await compileTemplate({ subject: 's', html: '<style>{% if dark %}p{color:#fff}{% endif %}</style><p>Hi {{ n }}</p>' });
  assert.equal(s.text, null);
  assert.equal(renderMessage(s, { n: 'Qian', dark: true }).text, 'Hi Qian');
});

test('a given text part is used as is', async () => {
  const c = await compileTemplate({ subject: 'Hi', html: '<p>x</p>', text: 'Dear {{ n }},\nplain' });
  assert.equal(renderMessage(c, { n: 'Zhao' }).text, 'Dear Zhao,\nplain');
});

test('a missing variable is a clear error that names it, at preview and at render', async () => {
  await rejectsWith(previewTemplate({ subject: 'Hi {{ name }}', html: '<p>x</p>' }, {}), /missing variable "name" in subject at line 1, column 7/, 'subject');
  await rejectsWith(previewTemplate({ subject: 'Hi', html: '<p>{{ account.no }}</p>' }, { account: {} }), /missing variable "account.no" in html/, 'html');
  const c = await compileTemplate({ subject: 'x', text: 'Balance {{ balance }}' });
  assert.throws(() => renderMessage(c, {}), /missing variable "balance" in text/);
});

test('bad Liquid, bad MJML and missing content are validation errors naming the part', async () => {
  await rejectsWith(compileTemplate({ subject: 'x', html: '{% if a %}open' }), /html template syntax error: tag \{% if a %\} not closed/, 'html');
  await rejectsWith(compileTemplate({ subject: 'x', html: '{{ a | nosuchfilter }}' }), /undefined filter: nosuchfilter/);
  await rejectsWith(compileTemplate({ subject: '', html: '<p>x</p>' }), /subject is required/, 'subject');
  await rejectsWith(compileTemplate({ subject: 'x' }), /give html, mjml or text/);
  await rejectsWith(compileTemplate({ subject: 'x', mjml: '<mjml><mj-body><mj-bogus /></mj-body></mjml>' }), /invalid MJML: .*mj-bogus/, 'mjml');
});

test('MJML compiles once to responsive HTML and Liquid inside it renders per recipient', async () => {
  const c = await compileTemplate({
    subject: '{{ name }} 的对账单',
    mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>您好 {{ name }}{% if vip %}，尊贵客户{% endif %}</mj-text><mj-button href="https://bank.test/s?id={{ id }}">查看</mj-button></mj-column></mj-section></mj-body></mjml>',
  });
  const r = renderMessage(c, { name: '李四', vip: true, id: 42 });
  assert.match(r.html!, /<!doctype html>/i);
  assert.match(r.html!, /@media/, 'responsive CSS');
  assert.match(r.html!, /您好 李四，尊贵客户/);
  assert.match(r.html!, /href="https:\/\/bank\.test\/s\?id=42"/);
  assert.doesNotMatch(r.html!, /fonts\.googleapis/, 'no third-party fonts');
  assert.match(r.text, /您好 李四，尊贵客户/);
  assert.doesNotMatch(r.text, /\{\{|\{%/);
});

test('a long HTML template renders its text part from a template derived once, not by converting each message', async () => {
  // Speed itself is measured by a benchmark, never by a timed test; this checks the design
  // that makes it fast: no HTML-to-text conversion per message.
  const body = Array.from({ length: 30 }, (_, i) => `<p>Paragraph ${i} for {{ name }} <a href="https://bank.test/{{ id }}/${i}">link</a></p>`).join('');
  const c = await compileTemplate({ subject: 'Statement for {{ name }}', html: `<html><body>${body}</body></html>` });
  assert.ok(c.text && c.textDerived);
  const r = renderMessage(c, { name: '客户7', id: 7 });
  assert.match(r.text, /Paragraph 29 for 客户7 link <https:\/\/bank\.test\/7\/29>/);
});

test('buildMime: a Chinese subject, display names and body round-trip through mailparser', async () => {
  const c = await compileTemplate({ subject: '{{ name }}，您的 2026 年 11 月信用卡电子账单', html: '<p>尊敬的{{ name }}：您本期应还 ¥{{ due }}。</p>' });
  const r = renderMessage(c, { name: '张三', due: '1,234.56' });
  const raw = await buildMime({
    from: '招商示例银行 <statements@bank.test>', to: '张三 <zhang@example.test>', subject: r.subject, html: r.html, text: r.text,
    headers: { 'X-Campaign': 'c1' }, messageId: '<m1@bank.test>',
    attachments: [{ filename: '账单-2026-11.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4 test') }],
  });
  const head = raw.toString('latin1').split('\r\n\r\n')[0]!;
  assert.match(head, /^Subject: =\?UTF-8\?[BQ]\?/m, 'RFC 2047 encoded subject');
  assert.ok([...head].every((ch) => ch.charCodeAt(0) < 128), 'headers are 7-bit');
  const parsed = await simpleParser(raw);
  assert.equal(parsed.subject, '张三，您的 2026 年 11 月信用卡电子账单');
  assert.equal(parsed.from?.value[0]?.name, '招商示例银行');
  assert.equal((Array.isArray(parsed.to) ? parsed.to[0] : parsed.to)?.value[0]?.name, '张三');
  assert.match(parsed.html || '', /尊敬的张三：您本期应还 ¥1,234\.56。/);
  assert.match(parsed.text ?? '', /尊敬的张三：您本期应还 ¥1,234\.56。/);
  assert.equal(parsed.messageId, '<m1@bank.test>');
  assert.equal(parsed.headers.get('x-campaign'), 'c1');
  assert.equal(parsed.attachments[0]?.filename, '账单-2026-11.pdf');
  assert.equal(parsed.attachments[0]?.content.toString(), '%PDF-1.4 test');
});

test('buildMime refuses a header value that would inject another header', async () => {
  assert.throws(() => buildMime({ from: 'a@b.test', to: 'c@d.test', subject: 's', html: null, text: 't', headers: { 'X-Tag': 'a\r\nBcc: evil@x.test' } }), /one line/);
});

test('a runaway loop is refused with a clear error instead of eating memory', async () => {
  const c = await compileTemplate({ subject: 's', text: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' });
  const started = Date.now();
  assert.throws(() => renderMessage(c, {}), (e: unknown) => e instanceof AppError && e.kind === 'validation' && /text template cannot render: render memory limit exceeded/.test(e.message));
  assert.ok(Date.now() - started < 1_000, 'refused before the range is built, not after');
});
