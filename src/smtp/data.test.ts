import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataReceiver } from './data.ts';

/** Feeds `wire` in pieces cut at `cuts`; returns where the data ended (in the whole) and the result. */
function receive(wire: string | Buffer, cuts: number[] = [], max = 1_000_000) {
  const buf = Buffer.isBuffer(wire) ? wire : Buffer.from(wire, 'latin1');
  const r = new DataReceiver(max);
  let start = 0;
  for (const end of [...cuts, buf.length]) {
    const piece = buf.subarray(start, end);
    const at = r.push(piece, 0);
    if (at >= 0) return { end: start + at, data: r.result() };
    start = end;
  }
  return { end: -1, data: r.result() };
}

describe('DATA receiver', () => {
  it('ends at CRLF.CRLF, unstuffs leading dots and keeps the bytes after the end for the next command', () => {
    const wire = 'Subject: x\r\n\r\n..hidden dot\r\n...two\r\nend\r\n.\r\nQUIT\r\n';
    const { end, data } = receive(wire);
    assert.equal(wire.slice(end), 'QUIT\r\n');
    assert.equal(data.raw?.toString('latin1'), 'Subject: x\r\n\r\n.hidden dot\r\n..two\r\nend\r\n');
    assert.equal(data.size, data.raw?.length);
  });

  it('gives the same message however the stream is cut into reads', () => {
    const wire = 'A: b\r\n\r\nline\r\n.dot\r\n\r\nlast\r\n.\r\nNOOP\r\n';
    const whole = receive(wire);
    for (let a = 1; a < wire.length; a++) {
      for (const b of [a + 1, a + 3, wire.length - 1]) {
        if (b <= a || b >= wire.length) continue;
        const cut = receive(wire, [a, b]);
        assert.equal(cut.end, whole.end, `cut at ${a},${b}`);
        assert.deepEqual(cut.data.raw, whole.data.raw, `cut at ${a},${b}`);
      }
    }
  });

  it('an empty message and a message right after DATA', () => {
    assert.equal(receive('.\r\n').data.raw?.length, 0);
    assert.equal(receive('x\r\n.\r\n').data.raw?.toString(), 'x\r\n');
  });

  it('bare LF line ends are stored as CRLF and counted', () => {
    const { data } = receive('A: b\n\nbody\nmore\r\n.\r\n');
    assert.equal(data.raw?.toString(), 'A: b\r\n\r\nbody\r\nmore\r\n');
    assert.equal(data.issues.bareLfLines, 3);
  });

  it('SMTP smuggling: a lone dot next to a bare LF ends nothing and is reported', () => {
    for (const smuggle of ['\n.\n', '\n.\r\n', '\r\n.\n', '\n..\n']) {
      const wire = `Subject: a\r\n\r\nfirst${smuggle}MAIL FROM:<evil@x.test>\r\n.\r\n`;
      const { end, data } = receive(wire);
      assert.equal(end, wire.length, `${JSON.stringify(smuggle)}: only the final CRLF.CRLF ends the data`);
      if (smuggle !== '\n..\n') assert.equal(data.issues.loneDot, true, JSON.stringify(smuggle));
      assert.match(data.raw!.toString(), /MAIL FROM:<evil@x\.test>/, 'the rest stays inside the one message');
    }
  });

  it('a bare CR never ends a line and is reported with its line', () => {
    const wire = 'a\r\nb\r.\rc\r\n.\r\n';
    const { end, data } = receive(wire);
    assert.equal(end, wire.length);
    assert.equal(data.issues.bareCrLine, 2);
  });

  it('NUL bytes, long lines and 8-bit bytes are reported with the first line they are on', () => {
    const long = 'x'.repeat(999);
    const { data } = receive(Buffer.concat([Buffer.from(`ok\r\n${'y'.repeat(998)}\r\n${long}\r\nnul\0here\r\n`), Buffer.from('caf\u00e9\r\n.\r\n', 'utf8')]));
    assert.equal(data.issues.longLine, 3);
    assert.equal(data.issues.longLineLength, 999);
    assert.equal(data.issues.nulLine, 4);
    assert.equal(data.issues.eightBit, true);
    const clean = receive('plain\r\n.\r\n').data.issues;
    assert.deepEqual([clean.longLine, clean.nulLine, clean.bareCrLine, clean.eightBit, clean.loneDot], [0, 0, 0, false, false]);
  });

  it('past the limit nothing is kept, the size is still counted and the end is still found', () => {
    const r = new DataReceiver(1000);
    const chunk = Buffer.from(`${'z'.repeat(98)}\r\n`.repeat(100));
    for (let i = 0; i < 50; i++) assert.equal(r.push(chunk, 0), -1);
    const at = r.push(Buffer.from('.\r\nRSET\r\n'), 0);
    assert.equal(at, 3);
    const data = r.result();
    assert.equal(data.oversized, true);
    assert.equal(data.raw, null);
    assert.equal(data.size, 50 * chunk.length);
  });
});
