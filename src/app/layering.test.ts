import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { layeringViolations, readImportGraph } from '../testing/layering.ts';
import type { ImportGraph } from '../testing/layering.ts';

const SRC = path.resolve(import.meta.dirname, '..');

/**
 * Cycles between capabilities that are still to be broken, each named by the imports that
 * close it. The list only shrinks: any other broken rule fails this test.
 */
const KNOWN_CYCLES: string[] = [
  'bounces → delivery → bounces',
  'bounces → tracking → bounces',
  'tracking → subscribers → messages → tracking',
  'bounces → tracking → subscribers → messages → bounces',
  // Statistics rollups, the webhook outbox and metrics are written by delivery, bounces, tracking,
  // subscribers and accounts inside their own transactions, and analytics reads delivery's events
  // back for the delivery log: these cycles go when the writers publish their events through one
  // observer seam the root wires (an open item of the architecture issue).
  'analytics → delivery → bounces → analytics',
  'webhooks → metrics → analytics → delivery → bounces → webhooks',
  'delivery → bounces → delivery',
  'webhooks → metrics → analytics → delivery → bounces → tracking → webhooks',
  'delivery → bounces → tracking → subscribers → messages → delivery',
  'accounts → webhooks → metrics → analytics → delivery → bounces → tracking → subscribers → messages → accounts',
  'webhooks → metrics → analytics → delivery → bounces → tracking → subscribers → webhooks',
  'metrics → analytics → delivery → bounces → metrics',
  'analytics → delivery → analytics',
  'webhooks → metrics → analytics → delivery → webhooks',
  'metrics → analytics → delivery → metrics',
  'accounts → webhooks → metrics → analytics → delivery → accounts',
];

test('the source keeps to the layering: core and store below everything, platform below the capabilities, capabilities through index.ts, no folder cycle', () => {
  const problems = layeringViolations(readImportGraph(SRC)).filter((p) => !KNOWN_CYCLES.some((known) => p.startsWith(`folder import cycle: ${known} (`)));
  assert.deepEqual(problems, []);
});

test('a planted violation of each rule is reported', () => {
  const graph: ImportGraph = new Map([
    ['core/errors.ts', ['store/store.ts']],
    ['store/store.ts', ['delivery/index.ts']],
    ['http/auth.ts', ['users/index.ts']],
    ['campaigns/service.ts', ['delivery/queue/control.ts', 'bounces/index.ts']],
    ['bounces/inbound.ts', ['campaigns/index.ts']],
    ['delivery/index.ts', ['testing/senders.ts']],
    ['app/server.ts', ['delivery/sender/sender.ts', 'delivery/capability.ts', 'delivery/index.ts']],
    ['users/index.ts', []],
  ]);
  const problems = layeringViolations(graph);
  const expect = (pattern: RegExp) => assert.ok(problems.some((p) => pattern.test(p)), `${pattern} not reported in:\n${problems.join('\n')}`);
  expect(/^core imports only itself: core\/errors\.ts → store\/store\.ts/);
  expect(/^store imports only core: store\/store\.ts → delivery\/index\.ts/);
  expect(/^http is below the capabilities: http\/auth\.ts → users\/index\.ts/);
  expect(/^delivery is reached only through its index\.ts: campaigns\/service\.ts → delivery\/queue\/control\.ts/);
  expect(/^a capability imports no composition root or test helper: delivery\/index\.ts → testing\/senders\.ts/);
  expect(/^delivery is reached only through its index\.ts \(or capability\.ts from the root\): app\/server\.ts → delivery\/sender\/sender\.ts/);
  expect(/^folder import cycle: bounces → campaigns → bounces/);
  // What is allowed is not reported: the root through index.ts and capability.ts.
  assert.ok(!problems.some((p) => p.includes('→ delivery/capability.ts') || p.includes('app/server.ts → delivery/index.ts')), problems.join('\n'));
  assert.equal(problems.length, 7, problems.join('\n'));
});

test('one planted import in the real source is found', () => {
  const graph = readImportGraph(SRC);
  const problems = layeringViolations(new Map([...graph, ['core/planted.ts', ['users/service.ts']]]));
  assert.ok(problems.includes('core imports only itself: core/planted.ts → users/service.ts'), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('folder import cycle: core → users → core')), problems.join('\n'));
});
