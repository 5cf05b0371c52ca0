import type { ImportLimits } from '../../config.ts';
import { fmt, limitExceeded } from '../limits.ts';
import type { RecordItem } from '../records.ts';
import type { SharedStrings } from './shared-strings.ts';
import type { WorkbookLayout } from './workbook.ts';
import { XmlPart } from './xml.ts';
import type { WorkbookZip } from './zip.ts';

/** Column of a cell reference such as "AB12" (1-based), or 0 when it has none. */
export function columnOf(ref: string): number {
  let col = 0;
  for (let i = 0; i < ref.length && i < 4; i++) {
    const c = ref.charCodeAt(i) | 0x20;
    if (c < 0x61 || c > 0x7a) break;
    col = col * 26 + (c - 0x60);
  }
  return col;
}

/** Excel's serial day number as a time (the 1900 system counts from 1899-12-30). */
export function excelToIso(serial: number, date1904: boolean): string | null {
  const ms = Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

class Malformed extends Error {}

/**
 * Rows of the first worksheet, streamed: each <row> becomes a record whose line is the row
 * number, with the cells' text as a person reading the sheet sees it (shared and inline
 * strings, numbers, booleans, dates for date-formatted numbers, formula results, error codes).
 * Empty cells are not kept, so a row is no wider than its last non-empty cell. Counted as
 * they come: cells (imports.maxCells) and each row's text (imports.maxLineBytes).
 */
export async function* readSheetRows(zip: WorkbookZip, layout: WorkbookLayout, strings: SharedStrings | null, limits: ImportLimits, onChunk?: () => void): AsyncGenerator<RecordItem[]> {
  let out: RecordItem[] = [];
  let done = false;
  let cells = 0;
  let rowNo = 0;
  let fields: string[] = [];
  let rowBytes = 0;
  let col = 0;
  let type = '';
  let style = -1;
  let value: string[] | null = null;
  let inInline = false;
  let phonetic = 0;
  let capturing = false;
  let ref = '';

  const cellValue = (): string => {
    const v = value ? (value.length === 1 ? value[0]! : value.join('')) : '';
    switch (type) {
      case 's': {
        if (!v) return '';
        const s = strings?.get(Number(v)) ?? null;
        if (s === null) throw new Malformed(`cell ${ref || fmt(col)} of row ${fmt(rowNo)} refers to shared string ${v}, which the workbook does not have`);
        return s;
      }
      case 'inlineStr': case 'str': case 'e': return v;
      case 'b': return v === '1' || v === 'true' ? 'true' : v ? 'false' : '';
      case 'd': {
        const t = Date.parse(v);
        return Number.isNaN(t) ? v : new Date(t).toISOString();
      }
      default: {
        if (!v.trim()) return v;
        const n = Number(v);
        if (!Number.isFinite(n)) return v;
        if (layout.dateStyles.has(style)) return excelToIso(n, layout.date1904) ?? String(n);
        return String(n);
      }
    }
  };

  const parser = new XmlPart(layout.sheet, limits, {
    open(name, a) {
      switch (name) {
        case 'row': {
          const r = a.r === undefined ? rowNo + 1 : Number(a.r);
          if (!Number.isInteger(r) || r < 1) throw new Malformed(`a row has the number "${a.r}"`);
          if (r <= rowNo) throw new Malformed(`row ${fmt(r)} comes after row ${fmt(rowNo)}`);
          rowNo = r;
          fields = [];
          rowBytes = 0;
          col = 0;
          break;
        }
        case 'c': {
          if (++cells > limits.maxCells) throw limitExceeded(limits, 'maxCells', 'the sheet has more cells than the limit', rowNo);
          ref = a.r ?? '';
          const c = ref ? columnOf(ref) : col + 1;
          if (c < 1) throw new Malformed(`a cell of row ${fmt(rowNo)} has the reference "${ref}"`);
          col = c;
          type = a.t ?? 'n';
          style = a.s === undefined ? 0 : Number(a.s);
          value = null;
          capturing = false;
          inInline = false;
          break;
        }
        case 'v': value = []; capturing = true; break;
        case 'is': inInline = true; value = []; break;
        case 't': capturing = inInline && !phonetic; break;
        case 'rPh': phonetic++; break;
      }
    },
    close(name) {
      switch (name) {
        case 'c': {
          const text = cellValue();
          if (!text) break;
          if (col > limits.maxColumns) throw limitExceeded(limits, 'maxColumns', `cell ${ref || fmt(col)} is in column ${fmt(col)}, past the limit`, rowNo);
          rowBytes += Buffer.byteLength(text, 'utf8');
          if (rowBytes > limits.maxLineBytes) {
            throw limitExceeded(limits, 'maxLineBytes', 'the row\'s text is longer than the limit', rowNo, ' bytes');
          }
          while (fields.length < col - 1) fields.push('');
          fields[col - 1] = text;
          break;
        }
        case 'row':
          out.push({ line: rowNo, fields });
          break;
        case 'v': case 't': capturing = false; break;
        case 'is': inInline = false; break;
        case 'rPh': phonetic--; break;
        case 'sheetData': done = true; break;
      }
    },
    // <v> holds the value; in an inline string, the <t> elements outside phonetic guides.
    text(t) {
      if (capturing && value) value.push(t);
    },
  });

  try {
    for await (const chunk of zip.text(layout.sheet)) {
      parser.write(chunk);
      onChunk?.();
      if (out.length >= 500 || (done && out.length)) {
        yield out;
        out = [];
      }
      if (done) return;
    }
    parser.close();
  } catch (err) {
    if (err instanceof Malformed) throw new Error(`${layout.sheet}: ${err.message}`, { cause: err });
    throw err;
  }
  if (out.length) yield out;
}
