import type { Readable } from 'node:stream';
import { invalid } from '../../core/errors.ts';
import type { RecordItem } from './records.ts';

/** A cell as text, the way a person reading the sheet sees it. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (typeof v === 'object') {
    const o = v as { richText?: { text: string }[]; text?: unknown; result?: unknown; error?: string };
    if (Array.isArray(o.richText)) return o.richText.map((r) => r.text).join('');
    if (o.text !== undefined) return cellText(o.text);
    if ('result' in o) return cellText(o.result);
    if (typeof o.error === 'string') return o.error;
  }
  return String(v);
}

/**
 * Rows of the first worksheet, streamed with exceljs's WorkbookReader; line numbers are the
 * sheet's row numbers, in arrays of up to 500. One caveat of the format: a workbook's
 * shared-string table is one part that rows index into, so it is held in memory (about as much
 * as those strings); the rows themselves stream.
 */
export async function* readXlsxRecords(source: Readable, onBytes?: (n: number) => void): AsyncGenerator<RecordItem[]> {
  if (onBytes) source.on('data', (c: Buffer) => onBytes(c.length));
  // Shared strings are taken as events and kept here, each copied out of the parser's chunk:
  // exceljs's own cache keeps substrings that pin whole chunks of XML (measured: +708 MiB RSS
  // for a million-row workbook with two million distinct strings).
  // exceljs is loaded on the first spreadsheet, not at start (about 35 MiB resident).
  const { default: ExcelJS } = await import('exceljs');
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(source, { worksheets: 'emit', sharedStrings: 'emit', hyperlinks: 'ignore', styles: 'cache', entries: 'ignore' });
  const strings: string[] = [];
  const resolve = (v: unknown): unknown => (v && typeof v === 'object' && 'sharedString' in v ? strings[(v as { sharedString: number }).sharedString] ?? '' : v);
  let sawSheet = false;
  let out: RecordItem[] = [];
  try {
    // parse() yields shared strings as bare { index, text } items and worksheets as events; in
    // this mode exceljs parks each worksheet in a temporary file until the strings are read.
    for await (const item of reader.parse() as unknown as AsyncIterable<{ eventType?: string; value?: unknown; index?: number; text?: unknown }>) {
      if (typeof item.index === 'number') {
        strings[item.index] = Buffer.from(cellText(item.text), 'utf8').toString('utf8');
        continue;
      }
      if (item.eventType !== 'worksheet') continue;
      const sheet = item.value as AsyncIterable<{ number: number; values: unknown }>;
      if (sawSheet) {
        for await (const _row of sheet) { /* drain later sheets unread: only the first one is imported */ }
        continue;
      }
      sawSheet = true;
      for await (const row of sheet) {
        const values = row.values as unknown[];
        const fields: string[] = [];
        for (let i = 1; i < values.length; i++) fields.push(cellText(resolve(values[i])));
        out.push({ line: row.number, fields });
        if (out.length >= 500) {
          yield out;
          out = [];
        }
      }
    }
  } catch (err) {
    throw invalid(`not a readable XLSX workbook: ${err instanceof Error ? err.message : String(err)}`, [{ field: 'file', message: 'unreadable XLSX' }]);
  }
  if (out.length) yield out;
}
