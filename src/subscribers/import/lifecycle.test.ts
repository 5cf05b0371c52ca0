import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { createApiKey } from '../../accounts/apikeys.ts';
import { createAccount } from '../../accounts/service.ts';
import type { Store } from '../../store/store.ts';
import { testApp, testConfig } from '../../testing/http.ts';
import { describeEachEngine } from '../../testing/stores.ts';
import { registerSubscriberCommands } from '../cli.ts';
import { createList } from '../lists.ts';
import { makeTenant, operator } from '../../testing/subscribers.ts';
import { createImport, getImport, importConfig, importSubscribers } from './import.ts';
import type { ImportView } from './import.ts';
import { Importer } from './importer.ts';
import { ImportStopped, abandonImport, runImport } from './run.ts';
import { spool, spoolDir } from './spool.ts';

const system = { operator: 'test', clientIp: '127.0.0.1', role: 'system' } as const;
const config = importConfig({ leaseSeconds: 5 });

/** Rows with what an import must count exactly across a resume: invalid addresses, and repeats far apart. */
function csv(rows: number): Buffer {
  const lines = ['email,name'];
  for (let i = 0; i < rows; i++) lines.push(i % 1000 === 999 ? `broken-${i},x` : `u${i % Math.floor(rows * 0.9)}@bank.test,客户${i}`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

async function keptFile(dataDir: string, name: string, bytes: Buffer) {
  return spool(Readable.from([bytes]), path.join(spoolDir(dataDir), name), config, true);
}

async function until(fn: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const row = (store: Store, id: string) => store.db.selectFrom('subscriber_imports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const totals = (v: Pick<ImportView, 'rowsRead' | 'imported' | 'updated' | 'duplicates' | 'errorCount'>) => [v.rowsRead, v.imported, v.updated, v.duplicates, v.errorCount];

/** What one uninterrupted run of the file gives, in a tenant of its own. */
async function straight(store: Store, tenant: string, bytes: Buffer) {
  await makeTenant(store, tenant);
  const list = await createList(store, operator, { tenantId: tenant, name: 'reference' });
  return totals(await importSubscribers(store, operator, { tenantId: tenant, listId: list.id, format: 'csv', source: Readable.from([bytes]), config }));
}

describeEachEngine('import lifecycle', (get) => {
  test('a node stops mid-import; another resumes it after the checkpoint from the kept file, with exact totals', async () => {
    const { store, dataDir } = get();
    await makeTenant(store, 'tn_lc1');
    const list = await createList(store, operator, { tenantId: 'tn_lc1', name: 'l' });
    const bytes = csv(6000);
    const id = await createImport(store, operator, { tenantId: 'tn_lc1', listId: list.id, format: 'csv' });
    const file = await keptFile(dataDir, `${id}-a.csv`, bytes);
    const shutdown = new AbortController();
    await assert.rejects(runImport(store, operator, 'tn_lc1', id, {
      nodeId: 'node-a', config, file, signal: shutdown.signal, onProgress: (p) => { if (p.rowsRead >= 2000) shutdown.abort(); },
    }), (e: unknown) => e instanceof ImportStopped && /stopped on node-a \(shutting down\); it resumes after line \d+/.test(e.message));
    const stopped = await row(store, id);
    assert.equal(stopped.status, 'running');
    assert.equal(Number(stopped.lease_expires_at), 0, 'the lease is handed back at once');
    assert.ok(stopped.checkpoint_line > 2000 && stopped.checkpoint_line < 6001, `checkpoint ${stopped.checkpoint_line}`);
    assert.ok(fs.existsSync(file.path));

    const nodeB = new Importer(store, { config, dataDir, nodeId: 'node-b' });
    await nodeB.recover();
    await until(async () => (await row(store, id)).status !== 'running', 'node-b to finish');
    const done = await getImport(store, operator, 'tn_lc1', id);
    assert.equal(done.status, 'completed', done.message ?? '');
    assert.deepEqual(totals(done), await straight(store, 'tn_lc1_ref', bytes), 'the same as one uninterrupted run');
    assert.equal(done.errors.length, 6, 'each broken line reported once');
    assert.equal(fs.existsSync(file.path), false, 'the kept file is deleted once done');
    const again = await keptFile(dataDir, `${id}-again.csv`, bytes);
    await assert.rejects(runImport(store, operator, 'tn_lc1', id, { nodeId: 'node-b', config, file: again }), /the import has completed/, 'a completed import never runs again');
    await nodeB.stop();
  });

  test('one node works an import: a live lease is not taken over, an expired one is; racing starts claim it once', async () => {
    const { store, dataDir } = get();
    await makeTenant(store, 'tn_lc2');
    const list = await createList(store, operator, { tenantId: 'tn_lc2', name: 'l' });
    const id = await createImport(store, operator, { tenantId: 'tn_lc2', listId: list.id, format: 'csv' });
    const file = await keptFile(dataDir, `${id}-a.csv`, csv(300));
    // Node A holds it (as if it were between two batches).
    await store.db.updateTable('subscriber_imports').set({ status: 'running', lease_owner: 'node-a', lease_expires_at: Date.now() + 60_000, file_path: file.path, file_sha256: file.sha256, file_bytes: file.bytes })
      .where('id', '=', id).execute();
    const nodeB = new Importer(store, { config, dataDir, nodeId: 'node-b' });
    await nodeB.recover();
    assert.equal((await row(store, id)).lease_owner, 'node-a');
    await assert.rejects(runImport(store, operator, 'tn_lc2', id, { nodeId: 'node-b', config, file }), /the import is running \(on node-a\)/);
    await store.db.updateTable('subscriber_imports').set({ lease_expires_at: Date.now() - 1 }).where('id', '=', id).execute();
    await nodeB.recover();
    await until(async () => (await row(store, id)).status === 'completed', 'node-b to take over');
    await nodeB.stop();

    const racing = await createImport(store, operator, { tenantId: 'tn_lc2', listId: list.id, format: 'csv' });
    const bytes = csv(2000);
    const f1 = await keptFile(dataDir, `${racing}-1.csv`, bytes);
    const f2 = await keptFile(dataDir, `${racing}-2.csv`, bytes);
    const results = await Promise.allSettled([
      runImport(store, operator, 'tn_lc2', racing, { nodeId: 'node-a', config, file: f1 }),
      runImport(store, operator, 'tn_lc2', racing, { nodeId: 'node-b', config, file: f2 }),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    assert.match(String((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason), /the import (is running|has completed)/);
    assert.equal((await getImport(store, operator, 'tn_lc2', racing)).rowsRead, 2000);
  });

  test('an import left running by a dead process: resumed on its node\'s restart, failed with the reason when its file is gone', async () => {
    const { store, dataDir } = get();
    await makeTenant(store, 'tn_lc3');
    const list = await createList(store, operator, { tenantId: 'tn_lc3', name: 'l' });
    // A CLI run (no file kept) whose lease has expired.
    const orphan = await createImport(store, operator, { tenantId: 'tn_lc3', listId: list.id, format: 'csv' });
    await store.db.updateTable('subscriber_imports').set({ status: 'running', lease_owner: 'host:cli:1', lease_expires_at: Date.now() - 1000, checkpoint_line: 1234, rows_read: 1233 })
      .where('id', '=', orphan).execute();
    // This node's own import, its process killed a moment ago: the lease has not expired yet.
    const own = await createImport(store, operator, { tenantId: 'tn_lc3', listId: list.id, format: 'csv' });
    const file = await keptFile(dataDir, `${own}-a.csv`, csv(500));
    await store.db.updateTable('subscriber_imports').set({ status: 'running', lease_owner: 'node-r', lease_expires_at: Date.now() + 60_000, file_path: file.path, file_sha256: file.sha256, file_bytes: file.bytes })
      .where('id', '=', own).execute();

    const restarted = new Importer(store, { config, dataDir, nodeId: 'node-r' });
    await restarted.recover(true);
    const failed = await getImport(store, operator, 'tn_lc3', orphan);
    assert.equal(failed.status, 'failed');
    assert.match(failed.message!, /the node working it \(host:cli:1\) stopped after line 1234, and its file is not on this node: send the same file again to resume after that line/);
    const log = await store.db.selectFrom('operation_log').select(['description', 'operator']).where('operation', '=', 'subscriber.import').where('tenant_id', '=', 'tn_lc3').execute();
    assert.ok(log.some((l) => l.operator === 'system' && l.description.includes(orphan)));
    await until(async () => (await row(store, own)).status === 'completed', 'the restarted node to resume its own import');
    await restarted.stop();
  });

  test('over HTTP: resume from the kept file, resume by sending the same file again (not another), discard', async () => {
    const { store, dataDir } = get();
    const app = await testApp(store, dataDir, { imports: { leaseSeconds: 5 } });
    await makeTenant(store, 'tn_lc4');
    const acc = await createAccount(store, system, { tenantId: 'tn_lc4', name: 'crm-lc4', password: 'a-long-password-1' });
    const key = (await createApiKey(store, system, { tenantId: 'tn_lc4', accountId: acc.id })).key;
    const h = { authorization: `Bearer ${key}` };
    const list = await createList(store, operator, { tenantId: 'tn_lc4', name: 'l' });
    const bytes = csv(5000);
    const expected = await straight(store, 'tn_lc4_ref', bytes);
    const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: string | object, ct?: string) =>
      app.inject({ method, url: `/api/v1/tenants/tn_lc4${url}`, headers: { ...h, ...(ct ? { 'content-type': ct } : {}) }, ...(payload === undefined ? {} : { payload }) });
    /** An import stopped after its first batches, then abandoned by another node: failed, its file kept or not. */
    let lists = 0;
    const failedMidway = async (keep: boolean) => {
      const own = await createList(store, operator, { tenantId: 'tn_lc4', name: `l${++lists}` });
      const id = await createImport(store, operator, { tenantId: 'tn_lc4', listId: own.id, format: 'csv' });
      const file = await keptFile(dataDir, `${id}-a.csv`, bytes);
      const stop = new AbortController();
      await assert.rejects(runImport(store, operator, 'tn_lc4', id, { nodeId: 'node-x', config, file, signal: stop.signal, onProgress: () => stop.abort() }), ImportStopped);
      if (!keep) {
        fs.rmSync(file.path);
        await store.db.updateTable('subscriber_imports').set({ file_path: null }).where('id', '=', id).execute();
      }
      assert.ok(await abandonImport(store, await row(store, id), 'node-x stopped'));
      return id;
    };

    const kept = await failedMidway(true);
    const before = (await call('GET', `/imports/${kept}`)).json();
    assert.deepEqual([before.status, before.fileKept], ['failed', true]);
    const resumed = await call('POST', `/imports/${kept}/resume`);
    assert.equal(resumed.statusCode, 202, resumed.body);
    assert.equal(resumed.json().status, 'running');
    await until(async () => (await call('GET', `/imports/${kept}`)).json().status !== 'running', 'the resumed import');
    const after = (await call('GET', `/imports/${kept}`)).json();
    assert.equal(after.status, 'completed', after.message);
    assert.deepEqual(totals(after), expected);
    assert.equal((await call('POST', `/imports/${kept}/resume`)).statusCode, 409, 'a completed import is not resumed');

    const lost = await failedMidway(false);
    const noFile = await call('POST', `/imports/${lost}/resume`);
    assert.equal(noFile.statusCode, 409);
    assert.match(noFile.json().detail, /send it again \(PUT .*\/file\) to resume after line \d+/);
    const other = await call('PUT', `/imports/${lost}/file`, 'email\nsomeone@else.test\n', 'text/csv');
    assert.equal(other.statusCode, 409);
    assert.match(other.json().detail, /not the file the import started with/);
    const same = await call('PUT', `/imports/${lost}/file`, bytes.toString(), 'text/csv');
    assert.equal(same.statusCode, 200, same.body);
    assert.deepEqual(totals(same.json()), expected, 'resumed by the re-upload, nothing counted twice');

    const dropped = await failedMidway(true);
    const keptPath = (await row(store, dropped)).file_path!;
    const discarded = await call('POST', `/imports/${dropped}/discard`);
    assert.equal(discarded.statusCode, 200);
    assert.deepEqual([discarded.json().status, discarded.json().fileKept], ['discarded', false]);
    assert.equal(fs.existsSync(keptPath), false);
    assert.equal((await call('POST', `/imports/${dropped}/resume`)).statusCode, 409);
    assert.equal((await call('PUT', `/imports/${dropped}/file`, bytes.toString(), 'text/csv')).statusCode, 409);
    assert.equal((await call('POST', `/imports/${kept}/discard`)).statusCode, 409, 'a completed import is not discarded');

    // Discarded while it runs: the upload is answered 409 and the run stops at its next batch.
    const running = (await call('POST', `/lists/${list.id}/imports`, { format: 'csv' })).json().id as string;
    const upload = call('PUT', `/imports/${running}/file`, csv(200_000).toString(), 'text/csv');
    await until(async () => (await row(store, running)).rows_read > 0, 'the big upload to start committing');
    assert.equal((await call('POST', `/imports/${running}/discard`)).statusCode, 200);
    const answer = await upload;
    assert.equal(answer.statusCode, 409, answer.body);
    assert.match(answer.json().detail, /discarded/);
    const final = (await call('GET', `/imports/${running}`)).json();
    assert.equal(final.status, 'discarded');
    assert.ok(final.rowsRead < 200_000, 'stopped before the end');
    const listed = (await call('GET', `/imports?status=discarded`)).json().items as { id: string }[];
    assert.deepEqual(listed.map((i) => i.id).sort(), [dropped, running].sort());
    const ops = await store.db.selectFrom('operation_log').select('operation').where('tenant_id', '=', 'tn_lc4').where('operation', 'like', 'subscriber.import.%').execute();
    assert.deepEqual(ops.map((o) => o.operation).sort(), ['subscriber.import.discard', 'subscriber.import.discard', 'subscriber.import.resume']);
    await app.close();
  });

  test('a server stopping mid-import answers 503; restarted, it resumes the import from its checkpoint', async () => {
    const { store, dataDir, engine } = get();
    await makeTenant(store, 'tn_lc6');
    const acc = await createAccount(store, system, { tenantId: 'tn_lc6', name: 'crm-lc6', password: 'a-long-password-1' });
    const key = (await createApiKey(store, system, { tenantId: 'tn_lc6', accountId: acc.id })).key;
    const list = await createList(store, operator, { tenantId: 'tn_lc6', name: 'l' });
    // Enough rows that the stop lands mid-way (PostgreSQL writes them more slowly).
    const bytes = csv(engine === 'postgres' ? 20_000 : 60_000);
    const first = await testApp(store, dataDir, { imports: { leaseSeconds: 5 } });
    const base = await first.listen({ host: '127.0.0.1', port: 0 });
    const h = { authorization: `Bearer ${key}` };
    const id = ((await (await fetch(`${base}/api/v1/tenants/tn_lc6/lists/${list.id}/imports`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: '{"format":"csv"}' })).json()) as { id: string }).id;
    const upload = fetch(`${base}/api/v1/tenants/tn_lc6/imports/${id}/file`, { method: 'PUT', headers: { ...h, 'content-type': 'text/csv' }, body: bytes });
    await until(async () => (await row(store, id)).rows_read > 0, 'the upload to start committing');
    await first.close();
    const answer = await upload;
    assert.equal(answer.status, 503);
    assert.ok(answer.headers.get('retry-after'));
    assert.match(((await answer.json()) as { detail: string }).detail, /shutting down\); it resumes after line \d+/);
    const left = await row(store, id);
    assert.equal(left.status, 'running');
    assert.ok(left.file_path && fs.existsSync(left.file_path), 'the upload is kept for the restart');

    const restarted = await testApp(store, dataDir, { imports: { leaseSeconds: 5 } });
    try {
      await until(async () => (await row(store, id)).status !== 'running', 'the restarted server to finish the import');
      const done = await getImport(store, operator, 'tn_lc6', id);
      assert.equal(done.status, 'completed', done.message ?? '');
      assert.deepEqual(totals(done), await straight(store, 'tn_lc6_ref', bytes));
    } finally {
      await restarted.close();
    }
  });

  test('past imports.maxConcurrent an upload is answered 429 and its import stays pending', async () => {
    const { store, dataDir, engine } = get();
    await makeTenant(store, 'tn_lc7');
    const acc = await createAccount(store, system, { tenantId: 'tn_lc7', name: 'crm-lc7', password: 'a-long-password-1' });
    const h = { authorization: `Bearer ${(await createApiKey(store, system, { tenantId: 'tn_lc7', accountId: acc.id })).key}` };
    const list = await createList(store, operator, { tenantId: 'tn_lc7', name: 'l' });
    const app = await testApp(store, dataDir, { imports: { maxConcurrent: 1 } });
    try {
      const start = async () => (await app.inject({ method: 'POST', url: `/api/v1/tenants/tn_lc7/lists/${list.id}/imports`, headers: h, payload: { format: 'csv' } })).json().id as string;
      const put = (id: string, body: string) => app.inject({ method: 'PUT', url: `/api/v1/tenants/tn_lc7/imports/${id}/file`, headers: { ...h, 'content-type': 'text/csv' }, payload: body });
      const big = await start();
      const first = put(big, csv(engine === 'postgres' ? 20_000 : 60_000).toString());
      await until(async () => (await row(store, big)).rows_read > 0, 'the first import to run');
      const second = await start();
      const busy = await put(second, 'email\nx@bank.test\n');
      assert.equal(busy.statusCode, 429);
      assert.ok(busy.headers['retry-after']);
      assert.match(busy.json().detail, /limit imports\.maxConcurrent = 1/);
      assert.equal((await row(store, second)).status, 'pending');
      assert.equal((await first).statusCode, 200);
      assert.equal((await put(second, 'email\nx@bank.test\n')).statusCode, 200, 'sent again once a slot is free');
    } finally {
      await app.close();
    }
  });

  test('a CLI import killed mid-way is resumed by the CLI at once (its process is gone), with exact totals', async () => {
    const { store, dataDir, databaseUrl, engine } = get();
    // Enough rows that the kill lands mid-way (PostgreSQL writes them more slowly).
    const rows = engine === 'postgres' ? 40_000 : 150_000;
    await makeTenant(store, 'tn_lc5');
    await createList(store, operator, { tenantId: 'tn_lc5', name: 'crash' });
    const file = path.join(dataDir, 'crash.csv');
    const bytes = csv(rows);
    fs.writeFileSync(file, bytes);
    const bin = fileURLToPath(new URL('../../../bin/fanout.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'subscribers', 'import', '--tenant', 'tn_lc5', '--list', 'crash', file], {
      env: { ...process.env, FANOUT_DATA_DIR: dataDir, ...(databaseUrl ? { FANOUT_DATABASE_URL: databaseUrl } : {}) }, stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const job = () => store.db.selectFrom('subscriber_imports').selectAll().where('tenant_id', '=', 'tn_lc5').executeTakeFirst();
    await until(async () => Number((await job())?.checkpoint_line ?? 0) > 0, 'the CLI to commit a batch');
    child.kill('SIGKILL');
    await exited;
    const left = (await job())!;
    assert.equal(left.status, 'running', 'killed: nothing could record the end');
    assert.equal(left.lease_owner, `${process.env.FANOUT_NODE_ID ?? os.hostname()}:cli:${child.pid}`);

    const lines: string[] = [];
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    registerSubscriberCommands(program, { print: (l) => lines.push(l), progress: { write: () => {}, tty: false }, context: (_g, fn) => fn({ config: testConfig(dataDir), store, actor: operator }) });
    await program.parseAsync(['subscribers', 'imports', 'resume', left.id, '--file', file], { from: 'user' });
    assert.match(lines.at(-1)!, new RegExp(`^import ${left.id}: ${rows.toLocaleString('en')} rows read`));
    const done = await getImport(store, operator, 'tn_lc5', left.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(totals(done), await straight(store, 'tn_lc5_ref', bytes));
  });
});
