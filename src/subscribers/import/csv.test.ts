import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { MAX_RECORD_BYTES, readCsvRecords } from './csv.ts';
import type { RecordItem } from './records.ts';

async function read(chunks: (string | Buffer)[]): Promise<RecordItem[]> {
  const out: RecordItem[] = [];
  for await (const rs of readCsvRecords((async function* () { yield* chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)); })())) out.push(...rs);
  return out;
}
const show = (items: RecordItem[]) => items.map((r) => ('fields' in r ? `${r.line}:${r.fields.join('|')}` : `${r.line}!${r.code}`));

test('quoted fields, doubled quotes, embedded newlines and delimiters, CRLF, BOM, blank lines', async () => {
  const items = await read(['\uFEFFemail,name\r\n', 'a@x.test,"Zhang, San"\r\n\r\n"b@x.test","say ""hi"""\r\nc@x.test,"multi\r\nline"\r\nd@x.test,\n', 'e@x.test,last']);
  assert.deepEqual(show(items), ['1:email|name', '2:a@x.test|Zhang, San', '4:b@x.test|say "hi"', '5:c@x.test|multi\r\nline'.replace('\r\n', '\n'), '7:d@x.test|', '8:e@x.test|last']);
});

test('records split across chunks anywhere, including inside a multi-byte character', async () => {
  const text = 'email,name\na@x.test,张三\nb@x.test,"李\n四"\n';
  const bytes = Buffer.from(text);
  for (let cut = 1; cut < bytes.length; cut++) {
    const items = await read([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.deepEqual(show(items), ['1:email|name', '2:a@x.test|张三', '3:b@x.test|李\n四'], `cut at ${cut}`);
  }
});

test('semicolon and tab delimiters are detected from the header', async () => {
  assert.deepEqual(show(await read(['email;name\na@x.test;A,B\n'])), ['1:email|name', '2:a@x.test|A,B']);
  assert.deepEqual(show(await read(['email\tname\na@x.test\tA;B\n'])), ['1:email|name', '2:a@x.test|A;B']);
});

test('a bad quote is an error at its line and reading goes on', async () => {
  const items = await read(['email,name\na@x.test,"Zh"ang\nb@x.test,ok\nc@x.test,Zh"ang\n']);
  assert.deepEqual(show(items), ['1:email|name', '2!quoting', '3:b@x.test|ok', '4:c@x.test|Zh"ang']);
  assert.match((items[1] as { error: string }).error, /unexpected "a" after the closing quote of field 2/);
});

test('an unclosed quote is reported where it opens and the following lines are still read', async () => {
  const rows = Array.from({ length: 150 }, (_, i) => `r${i}@x.test,n${i}`).join('\n');
  const items = await read([`email,name\na@x.test,"never closed\n${rows}\n`]);
  assert.equal(show(items)[1], '2!unclosed', 'past the record limits: the importer stops here');
  assert.equal(items.length, 2 + 150, 'every later row is read');
  assert.deepEqual(show(items).slice(-1), ['152:r149@x.test|n149']);
  // At the end of the file too.
  assert.deepEqual(show(await read(['email,name\nb@x.test,ok\nc@x.test,"open\nd@x.test,x'])), ['1:email|name', '2:b@x.test|ok', '3!quoting', '4:d@x.test|x']);
});

test('an over-long line is an error and memory stays bounded', async () => {
  const long = 'x'.repeat(MAX_RECORD_BYTES * 3);
  const chunks = ['email,name\n', `a@x.test,${long.slice(0, 70_000)}`, long.slice(70_000), '\nb@x.test,ok\n'];
  assert.deepEqual(show(await read(chunks)), ['1:email|name', '2!too_long', '3:b@x.test|ok']);
});

test('invalid UTF-8 is an error at its line only', async () => {
  const gbk = Buffer.from([0xd5, 0xc5, 0xc8, 0xfd]); // 张三 in GBK
  const items = await read([Buffer.concat([Buffer.from('email,name\na@x.test,ok\nb@x.test,'), gbk, Buffer.from('\nc@x.test,好\n')])]);
  assert.deepEqual(show(items), ['1:email|name', '2:a@x.test|ok', '3!encoding', '4:c@x.test|好']);
});

test('UTF-16, ZIP and binary files are refused as a whole', async () => {
  const refuse = (b: Buffer, re: RegExp) => assert.rejects(read([b]), (e: unknown) => e instanceof AppError && e.kind === 'validation' && re.test(e.message));
  await refuse(Buffer.from('\uFEFFemail\n', 'utf16le'), /UTF-16/);
  await refuse(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]), /ZIP/);
  await refuse(Buffer.from([0x65, 0x00, 0x6d, 0x00]), /NUL/);
});
