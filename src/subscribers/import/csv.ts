import { isUtf8 } from 'node:buffer';
import { invalid } from '../../core/errors.ts';
import type { RecordItem } from './records.ts';

/**
 * A streaming CSV reader (RFC 4180, plus what spreadsheets write: a UTF-8 BOM, CRLF, comma,
 * semicolon or tab delimiters). We do not use csv-parse here: after one bad record it cannot
 * resume (an over-long or unclosed-quote record ends its output for the rest of the file, we
 * measured), and an importer of a million rows must report that line and read on.
 *
 * Memory is bounded by the chunk size plus maxLineBytes: a physical line longer than that is
 * reported as too long without being kept, and a quoted record is given up after maxLineBytes
 * bytes or maxRecordLines lines (reported at the line where it began, code `unclosed`), and
 * reading resumes at the line after it. Work is linear in the input: a record that spans lines
 * is scanned line by line for its closing quote and parsed once, when it is complete.
 */
export interface CsvLimits {
  maxLineBytes: number;
  maxRecordLines: number;
}

export const DEFAULT_CSV_LIMITS: CsvLimits = { maxLineBytes: 64 * 1024, maxRecordLines: 100 };
export const MAX_RECORD_BYTES = DEFAULT_CSV_LIMITS.maxLineBytes;
export const MAX_RECORD_LINES = DEFAULT_CSV_LIMITS.maxRecordLines;

interface PhysLine { no: number; text: string; bad: 'encoding' | 'too_long' | null }

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

/**
 * Whether a record that is inside a quoted field at the end of its previous line (so the line
 * break belongs to the field) is still inside one at the end of this line. The same grammar as
 * parseRecord, without building fields: a multi-line record is scanned once, then parsed once.
 */
export function staysOpen(text: string, d: string): boolean {
  const n = text.length;
  let i = 0;
  // 0: inside quotes, 1: after a closing quote, 2: in an unquoted field, 3: at a field's start.
  let s = 0;
  for (;;) {
    if (s === 0) {
      const j = text.indexOf('"', i);
      if (j < 0) return true;
      if (text[j + 1] === '"') i = j + 2;
      else {
        i = j + 1;
        s = 1;
      }
    } else if (s === 1) {
      while (i < n && (text[i] === ' ' || (text[i] === '\t' && d !== '\t'))) i++;
      // The end of the record, or something after the closing quote: parseRecord reports it.
      if (i >= n || text[i] !== d) return false;
      i++;
      s = 3;
    } else if (s === 2) {
      const j = text.indexOf(d, i);
      if (j < 0) return false;
      i = j + 1;
      s = 3;
    } else {
      if (i >= n) return false;
      if (text[i] === '"') {
        i++;
        s = 0;
      } else s = 2;
    }
  }
}

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/** Physical lines with their numbers; bytes are split at LF, which never occurs inside a UTF-8 sequence. */
// Yields the lines of each chunk as one array: a yield per line would cost more than parsing it.
async function* physicalLines(source: AsyncIterable<Buffer | string>, maxLineBytes: number, onBytes?: (n: number) => void): AsyncGenerator<PhysLine[]> {
  // The unfinished last line: its pieces, joined once its end arrives (joining per chunk is quadratic).
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let carryTooLong = false;
  let no = 0;
  let first = true;
  // A line of n UTF-16 units has at most 3n UTF-8 bytes: only long lines are measured exactly.
  const tooLong = (text: string) => text.length * 3 > maxLineBytes && byteLength(text) > maxLineBytes;
  for await (const raw of source) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    onBytes?.(chunk.length);
    if (first && chunk.length) {
      first = false;
      sniff(chunk);
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    const chunkNl = chunk.lastIndexOf(10);
    if (chunkNl < 0) {
      carryBytes += chunk.length;
      if (carryBytes > maxLineBytes) {
        carryTooLong = true;
        carry = [];
        carryBytes = 0;
      } else carry.push(chunk);
      continue;
    }
    const buf: Buffer = carry.length ? Buffer.concat([...carry, chunk]) : chunk;
    const lastNl = buf.length - (chunk.length - chunkNl);
    const batch: PhysLine[] = [];
    const region = buf.subarray(0, lastNl);
    const rest = Buffer.from(buf.subarray(lastNl + 1));
    carry = rest.length ? [rest] : [];
    carryBytes = rest.length;
    // Fast path: one validity check and one decode for the whole region.
    if (!carryTooLong && isUtf8(region)) {
      const lines = region.toString('utf8').split('\n');
      for (const text of lines) batch.push({ no: ++no, text: text.endsWith('\r') ? text.slice(0, -1) : text, bad: tooLong(text) ? 'too_long' : null });
    } else {
      let start = 0;
      while (start <= region.length) {
        let end = region.indexOf(10, start);
        if (end < 0) end = region.length;
        const lineBuf = region.subarray(start, end);
        if (carryTooLong) {
          carryTooLong = false;
          batch.push({ no: ++no, text: '', bad: 'too_long' });
        } else if (lineBuf.length > maxLineBytes) {
          batch.push({ no: ++no, text: '', bad: 'too_long' });
        } else {
          const text = lineBuf.toString('utf8');
          batch.push({ no: ++no, text: text.endsWith('\r') ? text.slice(0, -1) : text, bad: isUtf8(lineBuf) ? null : 'encoding' });
        }
        start = end + 1;
      }
    }
    yield batch;
  }
  if (carryTooLong) yield [{ no: no + 1, text: '', bad: 'too_long' }];
  else if (carryBytes) {
    const last = Buffer.concat(carry);
    const text = last.toString('utf8');
    yield [{ no: no + 1, text: text.endsWith('\r') ? text.slice(0, -1) : text, bad: isUtf8(last) ? null : 'encoding' }];
  }
}

/**
 * Records of a CSV file, header first, each with the number of the line where it begins, in
 * arrays (one per chunk read). Blank lines are skipped. Throws a validation AppError for a
 * file that is not CSV text at all.
 */
export async function* readCsvRecords(source: AsyncIterable<Buffer | string>, options: { limits?: CsvLimits; onBytes?: (n: number) => void } = {}): AsyncGenerator<RecordItem[]> {
  const { maxLineBytes, maxRecordLines } = options.limits ?? DEFAULT_CSV_LIMITS;
  const badLine = { encoding: 'the line is not valid UTF-8 text (save the file as "CSV UTF-8")', too_long: `the line is longer than ${maxLineBytes} bytes` } as const;
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
          out.push({ line: l.no, error: badLine[l.bad], code: l.bad });
          continue;
        }
        if (!l.text.trim()) continue;
        delimiter ??= detectDelimiter(l.text);
        const p = parseRecord(l.text, delimiter);
        if ('fields' in p) out.push({ line: l.no, fields: p.fields });
        else if ('error' in p) out.push({ line: l.no, error: p.error, code: 'quoting' });
        else {
          pending = [l];
          pendingBytes = byteLength(l.text);
        }
        continue;
      }
      if (l.bad) {
        giveUp(`a quoted field opened here is not closed before line ${l.no}`, 'quoting');
        queue.unshift(l);
        continue;
      }
      pending.push(l);
      pendingBytes += byteLength(l.text) + 1;
      if (staysOpen(l.text, delimiter!)) {
        if (pendingBytes > maxLineBytes || pending.length > maxRecordLines) {
          giveUp(`a quoted field opened here is not closed within ${maxRecordLines} lines or ${maxLineBytes} bytes`, 'unclosed');
        }
        continue;
      }
      const p = parseRecord(pending.map((x) => x.text).join('\n'), delimiter!);
      if ('fields' in p) {
        out.push({ line: pending[0]!.no, fields: p.fields });
        pending = [];
      } else giveUp('error' in p ? p.error : 'the quoted field is not closed', 'quoting');
    }
  };
  // Reports the record at its first line and reads the lines after that line afresh.
  const giveUp = (reason: string, code: 'quoting' | 'unclosed') => {
    const [head, ...rest] = pending;
    pending = [];
    out.push({ line: head!.no, error: reason, code });
    queue.unshift(...rest);
  };

  for await (const lines of physicalLines(source, maxLineBytes, options.onBytes)) {
    for (const line of lines) feed(line);
    if (out.length) {
      yield out;
      out = [];
    }
  }
  // At the end an open quote is given up; the lines after it are read again, and may open another.
  while (pending.length) {
    giveUp('a quoted field opened here is not closed at the end of the file', 'quoting');
    if (queue.length) feed(queue.shift()!);
  }
  if (out.length) yield out;
}
