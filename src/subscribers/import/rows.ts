import { AppError, invalid } from '../../core/errors.ts';
import type { ImportLimits } from '../config.ts';
import { checkEmail } from '../../core/email.ts';
import { unneutralise } from '../export.ts';
import { mapHeader } from './columns.ts';
import type { ColumnMap } from './columns.ts';
import { fmt, limitExceeded } from './limits.ts';
import type { RecordItem } from './records.ts';
import type { ImportRow } from './writer.ts';

export const BATCH_ROWS = 1_000;
/** A batch is also cut at this much text, so one batch of wide rows stays a few MiB. */
const BATCH_CHARS = 4 * 1024 * 1024;

export interface LineError {
  line: number;
  reason: string;
}

/** What one committed batch adds to an import; every record up to `endLine` is accounted for. */
export interface ParsedBatch {
  rows: ImportRow[];
  errors: LineError[];
  /** Data records read in this batch: rows, per-line errors and repeats within the batch. */
  rowsRead: number;
  duplicates: number;
  endLine: number;
  /** Bytes of the file read so far. */
  bytesRead: number;
}

function toRow(item: { line: number; fields: string[] }, cols: ColumnMap, format: 'csv' | 'xlsx'): ImportRow | LineError {
  const f = item.fields;
  if (f.length !== cols.width) {
    const extra = f.slice(cols.width);
    // Spreadsheets leave trailing empty cells out, and often write trailing empty columns.
    const tolerable = f.length > cols.width ? extra.every((x) => !x.trim()) : format === 'xlsx';
    if (!tolerable) return { line: item.line, reason: `expected ${cols.width} fields as in the header, found ${f.length}` };
  }
  const c = checkEmail(unneutralise(f[cols.email] ?? ''));
  if (!c.ok) return { line: item.line, reason: c.reason };
  const name = cols.name === null ? null : unneutralise((f[cols.name] ?? '').trim()) || null;
  if (name && name.length > 256) return { line: item.line, reason: 'name is longer than 256 characters' };
  const attributes: Record<string, string> = {};
  let size = 0;
  for (const [i, key] of cols.attributes) {
    // An exported file imports back to the same values: undo the export's formula guard.
    const v = unneutralise((f[i] ?? '').trim());
    // An empty cell leaves a stored attribute as it is.
    if (v) {
      attributes[key] = v;
      size += key.length + v.length;
    }
  }
  if (size > 16_000) return { line: item.line, reason: 'the attributes of this row exceed 16 KB' };
  return { line: item.line, email: c.email, name, attributes };
}

const isBlank = (fields: string[]) => fields.every((x) => !x.trim());

/**
 * Turns records into batches of rows to write, in the parsing worker: the header maps the
 * columns, each record is checked against the limits (a record past one stops the file with an
 * error naming the limit and the line) and becomes a row or a per-line error, and rows are cut
 * into batches of BATCH_ROWS distinct addresses. On a resume, records up to `skipThroughLine`
 * were committed before and are read (for the header and the row count) but not emitted again.
 */
export class RowAssembler {
  readonly #format: 'csv' | 'xlsx';
  readonly #limits: ImportLimits;
  readonly #skipThroughLine: number;
  #cols: ColumnMap | null = null;
  #seenRows = 0;
  #batch = new Map<string, ImportRow>();
  #chars = 0;
  #errors: LineError[] = [];
  #rowsRead = 0;
  #duplicates = 0;
  #lastLine = 0;
  #emitted = 0;
  #firstEncodingError: LineError | null = null;
  bytesRead = 0;

  constructor(format: 'csv' | 'xlsx', limits: ImportLimits, skipThroughLine: number) {
    this.#format = format;
    this.#limits = limits;
    this.#skipThroughLine = skipThroughLine;
  }

  /** Takes one record; returns a batch when one is full. */
  push(item: RecordItem): ParsedBatch | null {
    this.#lastLine = Math.max(this.#lastLine, item.line);
    if (!this.#cols) {
      if ('error' in item) {
        this.#fatal(item);
        throw invalid(`the header row (line ${item.line}) cannot be read: ${item.error}`, [{ field: 'header', message: item.error }]);
      }
      if (isBlank(item.fields)) return null;
      this.#checkFields(item.line, item.fields);
      this.#cols = mapHeader(item.fields);
      return null;
    }
    if ('fields' in item) {
      if (isBlank(item.fields)) return null;
      this.#checkFields(item.line, item.fields);
    } else this.#fatal(item);
    if (++this.#seenRows > this.#limits.maxRows) throw limitExceeded(this.#limits, 'maxRows', 'the file has more rows than the limit', item.line);
    if (item.line <= this.#skipThroughLine) return null;
    this.#rowsRead++;
    if ('error' in item) {
      const e = { line: item.line, reason: item.error };
      if (item.code === 'encoding') this.#firstEncodingError ??= e;
      this.#errors.push(e);
      return null;
    }
    const row = toRow(item, this.#cols, this.#format);
    if ('reason' in row) {
      this.#errors.push(row);
      return null;
    }
    if (this.#batch.has(row.email)) {
      this.#duplicates++;
      return null;
    }
    this.#batch.set(row.email, row);
    for (const f of item.fields) this.#chars += f.length;
    return this.#batch.size >= BATCH_ROWS || this.#chars >= BATCH_CHARS ? this.#take() : null;
  }

  /** The last batch (possibly without rows); refuses a file without a header. */
  end(): ParsedBatch {
    if (!this.#cols) throw invalid('the file is empty: it needs a header row naming the columns (one of them "email") and rows below it', [{ field: 'file', message: 'empty' }]);
    return this.#take();
  }

  #take(): ParsedBatch {
    // A file whose first batch already has invalid UTF-8 is in another encoding: refused whole.
    if (this.#emitted === 0 && this.#skipThroughLine === 0 && this.#firstEncodingError) {
      throw invalid(`the file is not UTF-8 text (line ${this.#firstEncodingError.line}); save it as "CSV UTF-8" and import again`, [{ field: 'file', message: 'not UTF-8' }]);
    }
    const batch: ParsedBatch = {
      rows: [...this.#batch.values()], errors: this.#errors, rowsRead: this.#rowsRead, duplicates: this.#duplicates,
      endLine: this.#lastLine, bytesRead: this.bytesRead,
    };
    this.#batch = new Map();
    this.#chars = 0;
    this.#errors = [];
    this.#rowsRead = 0;
    this.#duplicates = 0;
    this.#emitted++;
    return batch;
  }

  /** Records the reader could not take apart because they are past a limit stop the file. */
  #fatal(item: { line: number; error: string; code: string }): void {
    if (item.code === 'too_long') throw limitExceeded(this.#limits, 'maxLineBytes', 'the line is longer than the limit', item.line, ' bytes');
    if (item.code === 'unclosed') {
      throw new AppError('validation', `line ${fmt(item.line)}: a quoted field opened here is not closed within the limits (imports.maxRecordLines = ${fmt(this.#limits.maxRecordLines)} lines, imports.maxLineBytes = ${fmt(this.#limits.maxLineBytes)} bytes)`, {
        problems: [{ field: 'file', message: `exceeds imports.maxRecordLines (${this.#limits.maxRecordLines}) or imports.maxLineBytes (${this.#limits.maxLineBytes})` }],
      });
    }
  }

  #checkFields(line: number, fields: string[]): void {
    if (fields.length > this.#limits.maxColumns) throw limitExceeded(this.#limits, 'maxColumns', `the row has ${fmt(fields.length)} fields, more than the limit`, line);
    const max = this.#limits.maxFieldBytes;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      // A field of n UTF-16 units has at most 3n UTF-8 bytes: only long ones are measured.
      if (f.length * 3 > max && Buffer.byteLength(f, 'utf8') > max) throw limitExceeded(this.#limits, 'maxFieldBytes', `field ${fmt(i + 1)} is longer than the limit`, line, ' bytes');
    }
  }
}
