import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const root = path.resolve(import.meta.dirname, '../..');
const web = path.join(root, 'web/src');
const load = (lang: string) => JSON.parse(fs.readFileSync(path.join(web, 'i18n', `${lang}.json`), 'utf8')) as Record<string, unknown>;

function keys(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : []));
}

test('both catalogues have the same keys, none empty', () => {
  const en = keys(load('en'));
  const zh = keys(load('zh-CN'));
  assert.deepEqual([...zh].sort(), [...en].sort());
  for (const [lang, cat] of [['en', load('en')], ['zh-CN', load('zh-CN')]] as const) {
    for (const k of keys(cat)) {
      const v = k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], cat);
      assert.ok(typeof v === 'string' && v.trim() !== '', `${lang}: ${k} is empty`);
    }
  }
});

test('every key the sources look up literally exists in the catalogue', () => {
  const known = new Set(keys(load('en')));
  const used = new Set<string>();
  for (const file of sources(web)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z][\w-]*(?:\.[\w-]+)+)'/g)) used.add(m[1]!);
    for (const m of text.matchAll(/\b(?:key|group):\s*'([a-z]+\.[\w.]+)'/g)) used.add(m[1]!);
  }
  assert.ok(used.size > 200, `found ${used.size} keys in the sources`);
  const missing = [...used].filter((k) => !known.has(k));
  assert.deepEqual(missing, []);
});

test('the lint rule refuses user-visible text that bypasses the catalogue', async () => {
  const eslint = new ESLint({ cwd: root });
  const file = path.join(web, 'screens', 'LintProbe.tsx');
  const [bad] = await eslint.lintText('export function Probe() {\n  return <div title="Delete everything"><p>Tenants</p></div>;\n}\n', { filePath: file });
  const literal = bad!.messages.filter((m) => m.ruleId === 'i18next/no-literal-string');
  assert.equal(literal.length, 2, JSON.stringify(bad!.messages));
  const [good] = await eslint.lintText("import { useTranslation } from 'react-i18next';\nexport function Probe() {\n  const { t } = useTranslation();\n  return <p title={t('nav.tenants')}>{t('nav.tenants')}</p>;\n}\n", { filePath: file });
  assert.deepEqual(good!.messages.filter((m) => m.ruleId === 'i18next/no-literal-string'), []);
});
