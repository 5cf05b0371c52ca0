import { isUtf8 } from 'node:buffer';
import { invalid } from '../../core/errors.ts';
import type { RecordItem } from './records.ts';

/**
 * A streaming CSV reader (RFC 4180, plus what spreadsheets write: a UTF-8 BOM, CRLF, comma,
 * semicolon or tab delimiters). We do not use csv-parse here: after one bad record it cannot
 * resume (an over-long or unclosed-quote record ends its output for the rest of the file, we
 * measured), and an importer of a million rows must report that line and read on.
 *
 * Memory is bounded by the chunk size plus MAX_RECORD_BYTES: an unclosed quote is given up
 * after that many bytes (or MAX_RECORD_LINES lines), reported at the line where the record
 * began, and reading resumes at the line after it.
 */
export const MAX_RECORD_BYTES = 64 * 1024;
export const MAX_RECORD_LINES = 100;

interface PhysLine { no: number; text: string; bad: 'encoding' | 'too_long' | null; bytes: number }

type Parsed = { fields: string[] } | { open: true } | { error: string };

export function parseRecord(text: string, d: string): Parsed {
  if (!text.includes('"')) return { fields: text.split(d) };
  const fields: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text[i] === '"') {
      let buf = '';
      i++;
      for (;;) {
        const j = text.indexOf('"', i);
        if (j < 0) return { open: true };
        buf += text.slice(i, j);
        if (text[j + 1] === '"') {
          buf += '"';
          i = j + 2;
          continue;
        }
        i = j + 1;
        break;
      }
      while (i < n && (text[i] === ' ' || (text[i] === '\t' && d !== '\t'))) i++;
      fields.push(buf);
      if (i >= n) return { fields };
      if (text[i] !== d) return { error: `unexpected ${JSON.stringify(text[i])} after the closing quote of field ${fields.length}` };
      i++;
      if (i === n) {
        fields.push('');
        return { fields };
      }
    } else {
      // Quotes inside an unquoted field are kept as written, as spreadsheets read them.
      const j = text.indexOf(d, i);
      if (j < 0) {
        fields.push(text.slice(i));
        return { fields };
      }
      fields.push(text.slice(i, j));
      i = j + 1;
      if (i === n) {
        fields.push('');
        return { fields };
      }
    }
  }
}

/** The delimiter of a header line: the most frequent of comma, semicolon and tab outside quotes. */
export function detectDelimiter(headerLine: string): string {
  const outside = headerLine.replace(/"[^"]*"/g, '');
  let best = ',';
  let bestCount = 0;
  for (const d of [',', ';', '\t']) {
    const c = outside.split(d).length - 1;
    if (c > bestCount) {
      best = d;
      bestCount = c;
    }
  }
  return best;
}

function sniff(first: Buffer): void {
  if ((first[0] === 0xff && first[1] === 0xfe) || (first[0] === 0xfe && first[1] === 0xff)) {
    throw invalid('the file is UTF-16 ("Unicode text"); save it as "CSV UTF-8" and import again', [{ field: 'file', message: 'UTF-16' }]);
  }
  if (first[0] === 0x50 && first[1] === 0x4b && first[2] === 0x03 && first[3] === 0x04) {
    throw invalid('the file is a ZIP archive (an XLSX workbook?), not CSV; import it as XLSX', [{ field: 'file', message: 'not CSV' }]);
  }
  if (first.subarray(0, 4096).includes(0)) {
    throw invalid('the file contains NUL bytes: it is binary or UTF-16, not CSV text', [{ field: 'file', message: 'binary' }]);
  }
}

/** Physical lines with their numbers; bytes are split at LF, which never occurs inside a UTF-8 sequence. */
// Yields the lines of each chunk as one array: a yield per line would cost more than parsing it.
async function* physicalLines(source: AsyncIterable<Buffer | string>, onBytes?: (n: number) => void): AsyncGenerator<PhysLine[]> {
  let carry: Buffer | null = null;
  let carryTooLong = false;
  let no = 0;
  let first = true;
  for await (const raw of source) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    onBytes?.(chunk.length);
    if (first && chunk.length) {
      first = false;
      sniff(chunk);
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const lastNl = buf.lastIndexOf(10);
    if (lastNl < 0) {
      carry = buf;
      if (carry.length > MAX_RECORD_BYTES) {
        carryTooLong = true;
        carry = Buffer.alloc(0);
      }
      continue;
    }
    const batch: PhysLine[] = [];
    const region = buf.subarray(0, lastNl);
    carry = Buffer.from(buf.subarray(lastNl + 1));
    // Fast path: one validity check and one decode for the whole region.
    if (!carryTooLong && isUtf8(region)) {
      const lines = region.toString('utf8').split('\n');
      for (const text of lines) batch.push({ no: ++no, text: text.endsWith('\r') ? text.slice(0, -1) : text, bad: text.length > MAX_RECORD_BYTES ? 'too_long' : null, bytes: text.length });
    } else {
      let start = 0;
      while (start <= region.length) {
        let end = region.indexOf(10, start);
        if (end < 0) end = region.length;
        const lineBuf = region.subarray(start, end);
        if (carryTooLong) {
          carryTooLong = false;
          batch.push({ no: ++no, text: '', bad: 'too_long', bytes: MAX_RECORD_BYTES + 1 });
        } else {
          const ok = isUtf8(lineBuf);
          const text = lineBuf.toString('utf8');
          batch.push({ no: ++no, text: text.endsWith('\r') ? text.slice(0, -1) : text, bad: !ok ? 'encoding' : lineBuf.length > MAX_RECORD_BYTES ? 'too_long' : null, bytes: lineBuf.length });
        }
        start = end + 1;
      }
    }
    yield batch;
  }
  if (carryTooLong) yield [{ no: no + 1, text: '', bad: 'too_long', bytes: MAX_RECORD_BYTES + 1 }];
  else if (carry && carry.length) {
    const text = carry.toString('utf8');
    yield [{ no: no + 1, text: text.endsWith('\r') ? text.slice(0, -1) : text, bad: isUtf8(carry) ? null : 'encoding', bytes: carry.length }];
  }
}

const BAD_LINE = { encoding: 'the line is not valid UTF-8 text (save the file as "CSV UTF-8")', too_long: `the line is longer than ${MAX_RECORD_BYTES} bytes` } as const;

/**
 * Records of a CSV file, header first, each with the number of the line where it begins, in
 * arrays (one per chunk read). Blank lines are skipped. Throws a validation AppError for a
 * file that is not CSV text at all.
 */
export async function* readCsvRecords(source: AsyncIterable<Buffer | string>, onBytes?: (n: number) => void): AsyncGenerator<RecordItem[]> {
  let delimiter: string | null = null;
  let pending: PhysLine[] = [];
  let pendingBytes = 0;
  const queue: PhysLine[] = [];
  let out: RecordItem[] = [];

  // Feeds one physical line; a failed multi-line record re-feeds its later lines.
  const feed = (line: PhysLine) => {
    queue.push(line);
    while (queue.length) {
      const l = queue.shift()!;
      if (!pending.length) {
        if (l.bad) {
          out.push({ line: l.no, error: BAD_LINE[l.bad], code: l.bad });
          continue;
        }
        if (!l.text.trim()) continue;
        delimiter ??= detectDelimiter(l.text);
        const p = parseRecord(l.text, delimiter);
        if ('fields' in p) out.push({ line: l.no, fields: p.fields });
        else if ('error' in p) out.push({ line: l.no, error: p.error, code: 'quoting' });
        else {
          pending = [l];
          pendingBytes = l.bytes;
        }
        continue;
      }
      if (l.bad) {
        giveUp(`a quoted field opened here is not closed before line ${l.no}`);
        queue.unshift(l);
        continue;
      }
      pending.push(l);
      pendingBytes += l.bytes + 1;
      const p = parseRecord(pending.map((x) => x.text).join('\n'), delimiter!);
      if ('fields' in p) {
        out.push({ line: pending[0]!.no, fields: p.fields });
        pending = [];
      } else if ('error' in p) {
        giveUp(p.error);
      } else if (pendingBytes > MAX_RECORD_BYTES || pending.length > MAX_RECORD_LINES) {
        giveUp(`a quoted field opened here is not closed within ${MAX_RECORD_LINES} lines or ${MAX_RECORD_BYTES} bytes`);
      }
    }
  };
  // Reports the record at its first line and reads the lines after that line afresh.
  const giveUp = (reason: string) => {
    const [head, ...rest] = pending;
    pending = [];
    out.push({ line: head!.no, error: reason, code: 'quoting' });
    queue.unshift(...rest);
  };

  for await (const lines of physicalLines(source, onBytes)) {
    for (const line of lines) feed(line);
    if (out.length) {
      yield out;
      out = [];
    }
  }
  // At the end an open quote is given up; the lines after it are read again, and may open another.
  while (pending.length) {
    giveUp('a quoted field opened here is not closed at the end of the file');
    if (queue.length) feed(queue.shift()!);
  }
  if (out.length) yield out;
}
