/**
 * Damaged and re-encoded variants of real bounces, for the property-based tests: what relays,
 * gateways and broken MTAs do to a message on its way back. Written independently of the MIME
 * walker under test (plain text surgery on boundaries and headers), so a bug there cannot hide
 * itself here.
 */

/** Every leaf part body of `raw` (a latin1 string), found by its boundaries: [start, end) of the body. */
function leafBodies(raw: string): { headStart: number; bodyStart: number; end: number }[] {
  const boundaries = [...raw.matchAll(/boundary\s*=\s*"?([^";\r\n]+)"?/gi)].map((m) => m[1] as string);
  const out: { headStart: number; bodyStart: number; end: number }[] = [];
  for (const b of boundaries) {
    const delim = `--${b}`;
    let at = raw.indexOf(delim);
    while (at >= 0) {
      const lineEnd = raw.indexOf('\n', at);
      if (lineEnd < 0 || raw.startsWith('--', at + delim.length)) break;
      const next = raw.indexOf(delim, lineEnd);
      const end = next < 0 ? raw.length : next;
 const chunk = raw.slice(lineEnd + 1, end);
      // A part without headers starts with its blank line.
      const sep = /^\r?\n/.exec(chunk) ?? /\r?\n\r?\n/.exec(chunk);
      if (sep && !/^content-type:\s*multipart\//im.test(raw.slice(lineEnd + 1, lineEnd + 1 + sep.index))) {
        out.push({ headStart: lineEnd + 1, bodyStart: lineEnd + 1 + sep.index + sep[0].length, end });
      }
      at = next;
    }
  }
  if (out.length === 0) {
    const sep = /\r?\n\r?\n/.exec(raw);
    if (sep) out.push({ headStart: 0, bodyStart: sep.index + sep[0].length, end: raw.length });
  }
  return out.sort((a, b) => b.bodyStart - a.bodyStart);
}

function wrap76(s: string): string {
  return s.replace(/.{1,76}/g, '$&\r\n');
}

function encodeQuotedPrintable(bytes: Buffer): string {
  let line = '';
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    // CRLF is a line break of the text, written as the encoded text's own line break.
    if (b === 0x0d && bytes[i + 1] === 0x0a) continue;
    const c = b === 0x0a ? '\n' : (b >= 33 && b <= 126 && b !== 61) || b === 32 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    if (c === '\n') {
      out += line + '\r\n';
      line = '';
      continue;
    }
    if (line.length + c.length > 75) {
      out += line + '=\r\n';
      line = '';
    }
    line += c;
  }
  return out + line;
}

let gbkTable: Map<string, number[]> | null = null;
let eucJpTable: Map<string, number[]> | null = null;

/** Reverse of the WHATWG decoder: every two-byte sequence decoded once, character → bytes. */
function reverseTable(label: string, lead: [number, number], trail: [number, number]): Map<string, number[]> {
  const d = new TextDecoder(label, { fatal: false });
  const table = new Map<string, number[]>();
  for (let a = lead[0]; a <= lead[1]; a++) {
    for (let b = trail[0]; b <= trail[1]; b++) {
      const ch = d.decode(Uint8Array.from([a, b]));
      if (ch.length === 1 && ch !== '\ufffd' && !table.has(ch)) table.set(ch, [a, b]);
    }
  }
  return table;
}

/** Encodes text as GBK (ASCII as is, unknown characters as "?"). */
export function encodeGbk(text: string): Buffer {
  gbkTable ??= reverseTable('gbk', [0x81, 0xfe], [0x40, 0xfe]);
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 63;
    if (code < 0x80) out.push(code);
    else out.push(...(gbkTable.get(ch) ?? [63]));
  }
  return Buffer.from(out);
}

/** Encodes text as ISO-2022-JP: JIS X 0208 runs between ESC $ B and ESC ( B. */
export function encodeIso2022Jp(text: string): Buffer {
  eucJpTable ??= reverseTable('euc-jp', [0xa1, 0xfe], [0xa1, 0xfe]);
  const out: number[] = [];
  let kanji = false;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 63;
    const pair = code < 0x80 ? null : eucJpTable.get(ch);
    if (pair && !kanji) out.push(0x1b, 0x24, 0x42);
    if (!pair && kanji) out.push(0x1b, 0x28, 0x42);
    kanji = Boolean(pair);
    if (pair) out.push((pair[0] as number) - 0x80, (pair[1] as number) - 0x80);
    else out.push(code < 0x80 ? code : 63);
  }
  if (kanji) out.push(0x1b, 0x28, 0x42);
  return Buffer.from(out);
}

export type Encoding = 'base64' | 'quoted-printable' | 'gbk' | 'iso-2022-jp';

/**
 * The same message with its text parts re-encoded: a transfer encoding (base64, quoted-printable)
 * or a charset (GBK, ISO-2022-JP, with the charset parameter set and 8-bit bodies in base64).
 */
export function reencode(message: Buffer, encoding: Encoding): Buffer {
  let raw = message.toString('latin1');
  for (const part of leafBodies(raw)) {
    const head = raw.slice(part.headStart, part.bodyStart);
    if (/^content-transfer-encoding:\s*(?:base64|quoted-printable)/im.test(head)) continue;
    if (/^content-type:\s*(?!text\/|message\/delivery-status)/im.test(head)) continue;
    const body = Buffer.from(raw.slice(part.bodyStart, part.end), 'latin1');
    let newHead = head.replace(/^content-transfer-encoding:[^\n]*\n/gim, '');
    if (/^\r?\n$/.test(newHead)) newHead = 'Content-Type: text/plain\r\n\r\n';
    let newBody: string;
    if (encoding === 'base64') newBody = wrap76(body.toString('base64'));
    else if (encoding === 'quoted-printable') newBody = encodeQuotedPrintable(body);
    else {
      const text = body.toString('utf8');
      const bytes = encoding === 'gbk' ? encodeGbk(text) : encodeIso2022Jp(text);
      newBody = encoding === 'gbk' ? wrap76(bytes.toString('base64')) : bytes.toString('latin1');
      if (/charset\s*=/i.test(newHead)) newHead = newHead.replace(/charset\s*=\s*"?[\w.:-]+"?/i, `charset=${encoding}`);
      else if (/^content-type:[^\n]*/im.test(newHead)) newHead = newHead.replace(/^(content-type:[^\r\n]*)/im, `$1; charset=${encoding}`);
      else newHead = `Content-Type: text/plain; charset=${encoding}\r\n` + newHead;
      if (encoding === 'gbk') newHead = 'Content-Transfer-Encoding: base64\r\n' + newHead;
      raw = raw.slice(0, part.headStart) + newHead + newBody + raw.slice(part.end);
      continue;
    }
    newHead = `Content-Transfer-Encoding: ${encoding}\r\n` + newHead;
    raw = raw.slice(0, part.headStart) + newHead + newBody + '\r\n' + raw.slice(part.end);
  }
  return Buffer.from(raw, 'latin1');
}

/** Line ends rewritten one by one, CRLF or LF as `pattern` says (it repeats). */
export function mixLineEnds(message: Buffer, pattern: boolean[]): Buffer {
  let i = 0;
  const text = message.toString('latin1').replace(/\r?\n/g, () => (pattern.length === 0 || pattern[i++ % pattern.length] ? '\r\n' : '\n'));
  return Buffer.from(text, 'latin1');
}

/** The message cut at `fraction` of its length (a connection that dropped, a quota that cut it). */
export function truncate(message: Buffer, fraction: number): Buffer {
  return message.subarray(0, Math.floor(message.length * Math.min(1, Math.max(0, fraction))));
}

/**
 * The message blown up to about `bytes`: one endless line, a run of short lines, or a repeated
 * delivery-status block inserted after the headers.
 */
export function oversize(message: Buffer, bytes: number, shape: 'line' | 'lines' | 'dsn'): Buffer {
  const raw = message.toString('latin1');
  const sep = /\r?\n\r?\n/.exec(raw);
  const at = sep ? sep.index + sep[0].length : raw.length;
  const unit = shape === 'line' ? 'x550 5.1.1 <a@b.example> user unknown ' : shape === 'lines' ? 'Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n' : 'Final-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n';
  const filler = unit.repeat(Math.ceil(bytes / unit.length));
  return Buffer.from(raw.slice(0, at) + filler + '\r\n' + raw.slice(at), 'latin1');
}
