import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../../accounts/apikeys.ts';
import { createAccount } from '../../accounts/service.ts';
import { testApp } from '../../testing/http.ts';
import { describeEachEngine } from '../../testing/stores.ts';
import { makeTenant } from '../../testing/subscribers.ts';
import { sharedStringSheetXml, sharedStringsXml, workbookParts, zip } from './xlsx/testing.ts';

const MiB = 1024 * 1024;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const system = { operator: 'test', clientIp: '127.0.0.1', role: 'system' } as const;

/**
 * The attack of the security review, replayed against a listening Fanout with a tenant's API
 * key: a workbook of millions of distinct 300-character shared strings, zip bombs, and CSV
 * bombs. Each must be answered with a problem naming the limit, leave its import `failed`
 * with the reason and nothing written, keep the server answering, and grow RSS by a bounded
 * amount. The server runs with some limits lowered so the files stay quick to build and send.
 */
const LIMITS = { maxSharedStringsBytes: 8 * MiB, maxSharedStrings: 100_000, maxInflatedBytes: 64 * MiB, maxFileBytes: 32 * MiB };
const RSS_BOUND_MB = 160;

const pad = 'x'.repeat(290);
const distinct300 = (i: number) => `${String(i).padStart(10, '0')}${pad}`;
/** Empty elements: cheap to inflate and parse, they make a sheet as large as one wants. */
function* filler(bytes: number): Generator<string> {
  yield '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>';
  const block = '<x/>'.repeat(1 << 14);
  for (let n = 0; n < bytes; n += block.length) yield block;
  yield '</sheetData></worksheet>';
}

let built: Promise<Record<string, Buffer>> | null = null;
const files = () => built ??= (async () => ({
  // The finding's file: 14 million shared strings declared (a sample of them present).
  finding: await zip(workbookParts(sharedStringSheetXml(1000), sharedStringsXml(50_000, distinct300, 14_000_000))),
  // The same strings without the count: only reading them shows there are too many bytes.
  uncounted: await zip(workbookParts(sharedStringSheetXml(1000), sharedStringsXml(60_000, distinct300))),
  tooMany: await zip(workbookParts(sharedStringSheetXml(10), sharedStringsXml(150_000, (i) => `s${i}`))),
  honestBomb: await zip(workbookParts(filler(100 * MiB))),
  lyingBomb: await zip(workbookParts(filler(100 * MiB), undefined, { sheet: { declaredSize: 10_000 } })),
}))();

describeEachEngine('import attacks against a running server', (get) => {
  let app: FastifyInstance;
  let base = '';
  let key = '';
  let listId = '';
  const T = 'tn_attack';

  test('setup: a listening server, a tenant API key, a list', async () => {
    const { store, dataDir } = get();
    app = await testApp(store, dataDir, { imports: LIMITS });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    await makeTenant(store, T);
    const acc = await createAccount(store, system, { tenantId: T, name: 'crm-attack', password: 'a-long-password-1' });
    key = (await createApiKey(store, system, { tenantId: T, accountId: acc.id })).key;
    listId = ((await (await fetch(`${base}/api/v1/tenants/${T}/lists`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'attacked' }) })).json()) as { id: string }).id;
    await files();
  });

  const api = (path: string, init: RequestInit = {}) => fetch(`${base}/api/v1/tenants/${T}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });

  /** Uploads a file as an import; meanwhile and afterwards the server must answer other requests. */
  async function attack(format: 'csv' | 'xlsx', body: Buffer | ReadableStream<Uint8Array>) {
    const created = await api(`/lists/${listId}/imports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format }) });
    const id = ((await created.json()) as { id: string }).id;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
    const upload = api(`/imports/${id}/file`, { method: 'PUT', headers: { 'content-type': format === 'csv' ? 'text/csv' : XLSX }, body, ...(Buffer.isBuffer(body) ? {} : { duplex: 'half' }) } as RequestInit);
    const during = await fetch(`${base}/healthz`);
    const res = await upload;
    const problem = (await res.json()) as { status: number; detail: string; errors?: { field: string; message: string }[] };
    clearInterval(sampler);
    const after = await api(`/lists/${listId}/subscribe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `alive-${id}@bank.test` }) });
    assert.equal(during.status, 200, 'the server answers while the file is read');
    assert.equal(after.status, 201, 'and writes afterwards');
    const view = (await (await api(`/imports/${id}`)).json()) as { status: string; message: string; imported: number };
    const growthMb = (peak - baseline) / MiB;
    assert.ok(growthMb < RSS_BOUND_MB, `RSS grew ${growthMb.toFixed(0)} MiB while the file was read, bound ${RSS_BOUND_MB} MiB`);
    return { res, problem, view, growthMb };
  }

  const refused = async (format: 'csv' | 'xlsx', body: Buffer | ReadableStream<Uint8Array>, detail: RegExp, limitKey: string | null) => {
    const { res, problem, view, growthMb } = await attack(format, body);
    console.log(`[${get().engine}] ${problem.detail.slice(0, 90)} - RSS +${growthMb.toFixed(0)} MiB`);
    assert.equal(res.status, 400, problem.detail);
    assert.match(String(res.headers.get('content-type')), /application\/problem\+json/);
    assert.match(problem.detail, detail);
    if (limitKey) assert.ok(problem.errors?.some((e) => e.field === 'file' && e.message.includes(`imports.${limitKey}`)), JSON.stringify(problem));
    assert.equal(view.status, 'failed');
    assert.match(view.message, detail, 'the import says why it failed');
    assert.equal(view.imported, 0, 'nothing of the file was written');
  };

  test('the finding: a workbook declaring 14 million distinct 300-character shared strings', async () => {
    await refused('xlsx', (await files()).finding, /the workbook declares 14,000,000 shared strings \(limit imports\.maxSharedStrings = 100,000\)/, 'maxSharedStrings');
  });

  test('the same strings without their count are counted as read and stopped at the bytes limit', async () => {
    await refused('xlsx', (await files()).uncounted, /shared strings are larger than the limit \(limit imports\.maxSharedStringsBytes = 8,388,608 bytes\)/, 'maxSharedStringsBytes');
  });

  test('too many small shared strings', async () => {
    await refused('xlsx', (await files()).tooMany, /more shared strings than the limit \(limit imports\.maxSharedStrings = 100,000\)/, 'maxSharedStrings');
  });

  test('a zip bomb whose sheet declares its 100 MiB is refused before inflating', async () => {
    await refused('xlsx', (await files()).honestBomb, /sheet1\.xml declares 104,857,\d+ bytes uncompressed.*imports\.maxInflatedBytes = 67,108,864/, 'maxInflatedBytes');
  });

  test('a zip bomb that lies about its size is stopped where it passes the size it declared', async () => {
    await refused('xlsx', (await files()).lyingBomb, /sheet1\.xml inflates to more than the 10,000 bytes its header declares/, null);
  });

  test('CSV bombs: one enormous line, millions of columns, a quoted field never closed', async () => {
    await refused('csv', Buffer.from(`email,name\na@x.test,${'x'.repeat(20 * MiB)}`), /^line 2: the line is longer than the limit \(limit imports\.maxLineBytes = 65,536 bytes\)/, 'maxLineBytes');
    await refused('csv', Buffer.from(`email,name\na@x.test${',x'.repeat(3_000_000)}\n`), /^line 2: the line is longer than the limit/, 'maxLineBytes');
    await refused('csv', Buffer.from(`${Array.from({ length: 600 }, (_, i) => `c${i}`).join(',')},email\n`), /^line 1: the row has 601 fields, more than the limit \(limit imports\.maxColumns = 512\)/, 'maxColumns');
    await refused('csv', Buffer.from(`email,name\nb@x.test,"opened\n${'and never closed\n'.repeat(300_000)}`), /^line 2: a quoted field opened here is not closed within the limits \(imports\.maxRecordLines = 100 lines/, 'maxRecordLines');
  });

  test('an upload past imports.maxFileBytes: by its Content-Length, and counted when it is chunked', async () => {
    const big = Buffer.alloc(40 * MiB, 'a@x.test\n');
    await refused('csv', big, /the file is 41,943,040 bytes, larger than the limit \(limit imports\.maxFileBytes = 33,554,432 bytes\)/, 'maxFileBytes');
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(Buffer.from('email\n'));
      },
      pull(c) {
        c.enqueue(big.subarray(0, MiB));
      },
    });
    await refused('csv', chunked, /^the file is larger than the limit \(limit imports\.maxFileBytes = 33,554,432 bytes\)/, 'maxFileBytes');
  });

  test('a file that exhausts the parser\'s heap stops its worker, not the server', async () => {
    const { store, dataDir } = get();
    // Record limits raised so that only the worker's heap stops a quoted field of two million lines.
    const small = await testApp(store, dataDir, { imports: { maxRecordLines: 10_000_000, maxLineBytes: 128 * MiB, maxFieldBytes: 128 * MiB, workerHeapMb: 16 } });
    const smallBase = await small.listen({ host: '127.0.0.1', port: 0 });
    try {
      const saved = base;
      base = smallBase;
      try {
        await refused('csv', Buffer.from(`email,name\na@x.test,"${'ab\n'.repeat(2_000_000)}`), /needs more memory to read than an import may use \(limit imports\.workerHeapMb = 16 MiB\)/, 'workerHeapMb');
      } finally {
        base = saved;
      }
    } finally {
      await small.close();
    }
  });

  test('after the attacks a good file still imports', async () => {
    const created = await api(`/lists/${listId}/imports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 'csv' }) });
    const id = ((await created.json()) as { id: string }).id;
    const res = await api(`/imports/${id}/file`, { method: 'PUT', headers: { 'content-type': 'text/csv' }, body: 'email,name\ngood@x.test,Good\n' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { imported: number }).imported, 1);
    await app.close();
  });
});
