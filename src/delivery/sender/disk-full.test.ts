import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { migrations } from '../../app/capabilities.ts';
import { Store } from '../../store/store.ts';
import { SmtpSink } from '../../testing/smtp-sink.ts';
import { makeSender } from '../queue/fixtures.ts';
import type { SenderFixture } from '../queue/fixtures.ts';
import { deliveries, startNode, submit, waitUntil } from '../../cluster/testing/nodes.ts';
import type { ClusterNode } from '../../cluster/testing/nodes.ts';

/**
 * The SQLite store's disk fills up while a real `fanout serve` accepts and delivers: the data
 * folder is on a small tmpfs of the test's own (mounting needs root, as in CI).
 */
const root = process.getuid?.() === 0;
let mountDir = '';
let dataDir = '';
let sink: SmtpSink;
let f: SenderFixture;
let node: ClusterNode | null = null;

before(async () => {
  if (!root) return;
  mountDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m,mode=0700', 'tmpfs', mountDir]);
  dataDir = path.join(mountDir, 'data');
  const store = Store.open({ dataDir });
  await store.migrate(migrations);
  f = await makeSender(store, { name: 'full-acct', domain: 'full.bank.test' });
  await store.close();
  // Slow enough that deliveries finish while the disk is full.
  sink = await SmtpSink.start({ starttls: false, default: { slowMs: 150 } });
});

after(async () => {
  if (!root) return;
  if (node && node.exitCode() === null) {
    node.child.kill('SIGKILL');
    await node.exited;
  }
  await sink?.close();
  try {
    execFileSync('umount', [mountDir]);
  } catch {
    execFileSync('umount', ['-l', mountDir]);
  }
  fs.rmSync(mountDir, { recursive: true, force: true });
});

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

test('disk full: clients get 452 4.3.1, results finishing meanwhile are kept, freed space is usable at once, nothing goes out twice, the error is logged once', { skip: root ? false : 'needs root to mount a tmpfs' }, async (t) => {
  node = await startNode({ name: 'full-node', dataDir, databaseUrl: null, sinkPort: sink.port });
  // Leave about 3 MB: a few dozen 100 KB messages fill it.
  const filler = path.join(mountDir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(1024 * 1024, 1);
  try {
    while (freeBytes(mountDir) > 4 * 1024 * 1024) fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
  const full = await submit([node.port], f, 'd', 80, { connections: 3, bodyBytes: 100_000 });
  const counts = full.refusals.reduce((m, c) => m.set(c, (m.get(c) ?? 0) + 1), new Map<number, number>());
  assert.ok((counts.get(452) ?? 0) > 0, `the full disk was answered 452 (${JSON.stringify([...counts])})`);
  assert.deepEqual(full.refusals.filter((c) => c !== 452 && c !== 451), [], 'only temporary refusals');
  assert.ok(full.accepted.size > 0, 'some mail was accepted before the disk filled');
  // Deliveries go on meanwhile; their results cannot be written until space is freed.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(node.exitCode(), null, 'the node is up');

  fs.rmSync(filler);
  const later = await submit([node.port], f, 'e', 10, { connections: 2, bodyBytes: 100_000 });
  assert.deepEqual(later.refusals, [], 'freed space is usable at once');
  const accepted = new Set([...full.accepted, ...later.accepted]);
  await waitUntil(() => {
    const seen = deliveries(sink);
    return [...accepted].every((r) => seen.has(r));
  }, 90_000, 'every accepted recipient at the sink');
  const twice = [...deliveries(sink)].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'nothing went out twice');
  const out = node.output();
  const fullLogs = (out.match(/the store's disk is full/g) ?? []).length;
  assert.ok(fullLogs >= 1, 'the real cause is logged');
  assert.ok(fullLogs <= 6, `logged once per kind of failure, then rate-limited (${fullLogs} lines for ${counts.get(452)} refusals)`);
  assert.doesNotMatch(out, /cannot rollback/);
  // The sender met the full disk too (a claim or a result it could not write) and came through.
  assert.match(out, /(writing a delivery result failed|claiming work failed)[^\n]*|"storageFull":true[^\n]*"msg":"(writing|claiming)/);
  const walBytes = fs.existsSync(path.join(dataDir, 'fanout.db-wal')) ? fs.statSync(path.join(dataDir, 'fanout.db-wal')).size : 0;
  const senderFaults = (out.match(/"msg":"(writing a delivery result failed[^"]*|claiming work failed[^"]*)"/g) ?? []).join(', ');
  t.diagnostic(`sender saw: ${senderFaults}`);
  t.diagnostic(`refusals while full: ${JSON.stringify([...counts])}; accepted ${accepted.size} recipients, all delivered once; "disk is full" logged ${fullLogs} times; WAL now ${walBytes} bytes`);
  node.child.kill('SIGTERM');
  assert.equal(await node.exited, 0);
});
