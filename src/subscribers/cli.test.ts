import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { testConfig } from '../testing/http.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { registerSubscriberCommands } from './cli.ts';
import { makeTenant } from '../testing/subscribers.ts';

const actor = { operator: 'cli:test', clientIp: 'local', role: 'administrator' } as const;

describeEachEngine('subscriber commands', (get) => {
  const lines: string[] = [];
  let bar = '';
  const cli = async (tty: boolean, ...args: string[]) => {
    const { store, dataDir } = get();
    const config = testConfig(dataDir);
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    registerSubscriberCommands(program, { print: (l) => lines.push(l), progress: { write: (s) => { bar += s; }, tty }, context: (_g, fn) => fn({ config, store, actor }) });
    lines.length = 0;
    bar = '';
    await program.parseAsync(args, { from: 'user' });
    return [...lines];
  };

  test('import shows a progress bar and the per-line errors; export writes the file', async () => {
    const { store, dataDir } = get();
    await makeTenant(store, 'tn_cli');
    const listId = (await cli(false, 'lists', 'create', '--tenant', 'tn_cli', '--name', 'statements'))[0]!;
    assert.match(listId, /^ls_/);
    const file = path.join(dataDir, 'in.csv');
    const rows = Array.from({ length: 3000 }, (_, i) => (i === 1500 ? 'not-an-address,x' : `c${i}@bank.test,客户${i}`));
    fs.writeFileSync(file, `email,name\n${rows.join('\n')}\n`);
    const out = await cli(false, 'subscribers', 'import', '--tenant', 'tn_cli', '--list', 'statements', file);
    assert.deepEqual(out.slice(0, -1), ['line 1502: "not-an-address" has no @']);
    assert.match(out.at(-1)!, /^import im_\w+: 3,000 rows read, 2,999 added, 0 updated, 0 duplicates, 1 errors in/);
    const barLines = bar.trim().split('\n');
    // Not a terminal: a line each time another tenth of the file is read (here all in one read), then the total.
    assert.ok(barLines.length >= 2 && barLines.length <= 12, bar);
    assert.match(barLines.at(-1)!, /^\[#{30}\] 100% {2}3,000 rows .* added 2,999 .* errors 1$/);

    // On a terminal the bar redraws one line in place.
    fs.writeFileSync(file, 'email\nz@bank.test\n');
    await cli(true, 'subscribers', 'import', '--tenant', 'tn_cli', '--list', listId, file);
    assert.ok(bar.startsWith('\r') && bar.endsWith('\n'));

    const listed = await cli(false, 'lists', 'list', '--tenant', 'tn_cli');
    assert.match(listed[1]!, /statements\s+false\s+3000\s+0\s+0\s+0\s+0/);
    const exported = path.join(os.tmpdir(), `fanout-export-${process.pid}.xlsx`);
    try {
      assert.deepEqual(await cli(false, 'subscribers', 'export', '--tenant', 'tn_cli', '--list', 'statements', '--out', exported), [`wrote ${exported}`]);
      assert.deepEqual([...fs.readFileSync(exported).subarray(0, 2)], [0x50, 0x4b], 'an XLSX (ZIP) file');
    } finally {
      fs.rmSync(exported, { force: true });
    }
    await assert.rejects(cli(false, 'subscribers', 'import', '--tenant', 'tn_cli', '--list', 'nope', file), /list "nope" not found/);
  });

  test('a file past a limit: the message names the line and the limit; the import is failed, listed, and discarded', async () => {
    const { dataDir } = get();
    const file = path.join(dataDir, 'long.csv');
    fs.writeFileSync(file, `email,name\nok@bank.test,fine\na@bank.test,${'x'.repeat(70_000)}\n`);
    const failed = await cli(false, 'subscribers', 'import', '--tenant', 'tn_cli', '--list', 'statements', file).then(() => null, (e: unknown) => e as Error);
    assert.match(String(failed?.message), /^import (im_\w+) failed: line 3: the line is longer than the limit \(limit imports\.maxLineBytes = 65,536 bytes\); resume with: fanout subscribers imports resume im_\w+ --file /);
    const id = /^import (im_\w+)/.exec(failed!.message)![1]!;
    const listed = await cli(false, 'subscribers', 'imports', 'list', '--tenant', 'tn_cli', '--status', 'failed');
    assert.equal(listed.length, 2);
    assert.match(listed[1]!, new RegExp(`^${id}\\s+failed\\s+csv\\s+long\\.csv\\s+0\\s+0\\s+0\\s+0\\s+.*line 3: the line is longer than the limit`));
    assert.deepEqual(await cli(false, 'subscribers', 'imports', 'discard', id), [`import ${id}: discarded`]);
    await assert.rejects(cli(false, 'subscribers', 'imports', 'resume', id, '--file', file), /only a failed import|the import was discarded/);
  });
});

