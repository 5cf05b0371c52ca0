import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { registerBounceCommands, runClassify } from './cli.ts';
import { classifyFiles } from './files.ts';

const DSN = `From: MAILER-DAEMON@x.example
To: s@x.example
Subject: Undelivered Mail
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: message/delivery-status

Final-Recipient: rfc822; gone@y.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown
--b--
`;

test('classifyFiles prints one line per recipient and keeps going past unreadable files', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-bounces-'));
  try {
    const file = path.join(dir, 'a.eml');
    fs.writeFileSync(file, DSN);
    const missing = path.join(dir, 'missing.eml');
    const r = await classifyFiles([missing, file]);
    assert.deepEqual(r.lines, [{ file, recipient: 'gone@y.example', status: '5.1.1', reply_code: '550', reason: 'userunknown', hard_bounce: true }]);
    assert.deepEqual(r.errors, [{ file: missing, message: 'no such file' }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the bounces classify command writes JSON lines and fails on unreadable files', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-bounces-'));
  try {
    const file = path.join(dir, 'a.eml');
    fs.writeFileSync(file, DSN);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runClassify([file, path.join(dir, 'nope.eml')], { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    const lines = out.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines, [{ file, recipient: 'gone@y.example', status: '5.1.1', reply_code: '550', reason: 'userunknown', hard_bounce: true }]);
    assert.match(err.join(''), /nope\.eml: cannot read: no such file/);
    assert.equal(code, 1);
    assert.equal(await runClassify([file], { stdout: () => {}, stderr: () => {} }), 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('registerBounceCommands adds "bounces classify" to the program', () => {
  const program = new Command();
  registerBounceCommands(program);
  const bounces = program.commands.find((c) => c.name() === 'bounces');
  assert.ok(bounces?.commands.some((c) => c.name() === 'classify'));
});
