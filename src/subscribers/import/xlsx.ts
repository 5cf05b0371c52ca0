import fs from 'node:fs';
import { AppError } from '../../core/errors.ts';
import type { ImportLimits } from '../config.ts';
import type { RecordItem } from './records.ts';
import { readSharedStrings } from './xlsx/shared-strings.ts';
import { readSheetRows } from './xlsx/sheet.ts';
import { readLayout } from './xlsx/workbook.ts';
import { WorkbookZip, isOle2 } from './xlsx/zip.ts';

const unreadable = (why: string, cause?: unknown) => new AppError('validation', `not a readable XLSX workbook: ${why}`, { problems: [{ field: 'file', message: 'unreadable XLSX' }], cause });

function sniff(file: string): void {
  const head = Buffer.alloc(8);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 8, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (isOle2(head)) throw unreadable('it is a password-protected workbook or the old .xls format; save it as .xlsx without a password');
  if (!(head[0] === 0x50 && head[1] === 0x4b)) throw unreadable('it is not a ZIP archive (a CSV file? import it as CSV)');
}

/**
 * Rows of the first worksheet of an XLSX file, as records whose line is the sheet's row number,
 * in arrays of up to 500. The file is read where it lies (an upload is kept on disk first) with
 * yauzl and saxes rather than exceljs's WorkbookReader: the ZIP's central directory lets the
 * shared strings be read before the sheet in any workbook (exceljs parks a sheet that comes
 * first in a temporary file), every part's size is checked before it is inflated and counted
 * while it is, and the shared strings are held compactly (see SharedStrings). Measured on
 * 200,000 rows (bench/imports.ts): faster than the WorkbookReader, see docs/security.md.
 *
 * Limit errors name their limit; anything else that stops the reading is a validation error
 * "not a readable XLSX workbook: ...".
 */
export async function* readXlsxRecords(file: string, limits: ImportLimits, onBytes?: (n: number) => void): AsyncGenerator<RecordItem[]> {
  let zip: WorkbookZip | null = null;
  try {
    sniff(file);
    zip = await WorkbookZip.open(file, limits);
    const layout = await readLayout(zip, limits);
    const strings = layout.sharedStrings ? await readSharedStrings(zip, layout.sharedStrings, limits) : null;
    // Progress in file bytes: the share of the sheet inflated so far, of the file's size.
    const fileSize = fs.statSync(file).size;
    const sheetSize = Math.max(1, zip.declaredSize(layout.sheet));
    const before = zip.inflated;
    let reported = 0;
    const opened = zip;
    const progress = () => {
      const now = Math.min(fileSize, Math.floor((fileSize * (opened.inflated - before)) / sheetSize));
      if (now > reported) onBytes?.(now - reported);
      reported = Math.max(reported, now);
    };
    yield* readSheetRows(zip, layout, strings, limits, progress);
    if (fileSize > reported) onBytes?.(fileSize - reported);
  } catch (err) {
    // A TypeError or ReferenceError is a fault here, not in the file: it is not passed off as one.
    if (err instanceof AppError || err instanceof TypeError || err instanceof ReferenceError) throw err;
    throw unreadable(err instanceof Error ? err.message : String(err), err);
  } finally {
    zip?.close();
  }
}
