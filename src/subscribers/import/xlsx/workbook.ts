import path from 'node:path/posix';
import { invalid } from '../../../core/errors.ts';
import type { ImportLimits } from '../../config.ts';
import { fmt } from '../limits.ts';
import { XmlPart, readPart } from './xml.ts';
import type { WorkbookZip } from './zip.ts';

/** Relationship, workbook and style parts are small; one of many MiB is not a workbook's. */
const MAX_META_PART_BYTES = 16 * 1024 * 1024;
/** Excel allows 64,000 cell formats. */
const MAX_STYLES = 65_536;
/** Built-in number formats that show dates or times (ECMA-376 18.8.30, with the CJK ones). */
const DATE_FORMAT_IDS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58]);

/** What the sheet reader needs to know about the workbook. */
export interface WorkbookLayout {
  sheet: string;
  sharedStrings: string | null;
  /** Cell styles (xf indices) whose number format shows a date. */
  dateStyles: Set<number>;
  date1904: boolean;
}

/** A custom number format shows a date when it has date or time letters outside quotes and brackets. */
export function isDateFormat(code: string): boolean {
  return /[ymdhsb]/i.test(code.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

async function readMeta(zip: WorkbookZip, part: string, limits: ImportLimits, open: (name: string, attrs: Record<string, string>) => void, close: (name: string) => void = () => {}): Promise<void> {
  const size = zip.declaredSize(part);
  if (size > MAX_META_PART_BYTES) throw invalid(`the workbook part ${part} is ${fmt(size)} bytes; such a part has a few KiB`, [{ field: 'file', message: 'oversized part' }]);
  await readPart(zip.text(part), new XmlPart(part, limits, { open, close }));
}

/** Relationships of a part: id → { type, target resolved to a part name }. */
async function relationships(zip: WorkbookZip, part: string, limits: ImportLimits): Promise<Map<string, { type: string; target: string }>> {
  const rels = path.join(path.dirname(part), '_rels', `${path.basename(part)}.rels`);
  const out = new Map<string, { type: string; target: string }>();
  if (!zip.has(rels)) return out;
  await readMeta(zip, rels, limits, (name, a) => {
    if (name !== 'Relationship' || !a.Id || !a.Target || a.TargetMode === 'External') return;
    const target = a.Target.startsWith('/') ? a.Target.slice(1) : path.normalize(path.join(path.dirname(part), a.Target));
    out.set(a.Id, { type: a.Type ?? '', target });
  });
  return out;
}

const ofType = (rels: Map<string, { type: string; target: string }>, type: string) => [...rels.values()].find((r) => r.type.endsWith(`/${type}`))?.target ?? null;

/** Finds the first worksheet (in the workbook's sheet order), the shared strings and the date styles. */
export async function readLayout(zip: WorkbookZip, limits: ImportLimits): Promise<WorkbookLayout> {
  const workbook = ofType(await relationships(zip, '', limits), 'officeDocument') ?? 'xl/workbook.xml';
  if (!zip.has(workbook)) throw invalid('the file is a ZIP archive but not an XLSX workbook (no xl/workbook.xml)', [{ field: 'file', message: 'not a workbook' }]);
  let firstSheetRel: string | null = null;
  let date1904 = false;
  await readMeta(zip, workbook, limits, (name, a) => {
    if (name === 'workbookPr') date1904 = a.date1904 === '1' || a.date1904 === 'true';
    if (name === 'sheet' && firstSheetRel === null) {
      const key = Object.keys(a).find((k) => k.endsWith(':id'));
      firstSheetRel = key ? a[key]! : null;
    }
  });
  const rels = await relationships(zip, workbook, limits);
  const sheet = firstSheetRel ? rels.get(firstSheetRel)?.target : null;
  if (!sheet || !zip.has(sheet)) throw invalid('the workbook has no worksheet', [{ field: 'file', message: 'no worksheet' }]);
  const sharedStrings = ofType(rels, 'sharedStrings');
  const styles = ofType(rels, 'styles');
  const dateStyles = styles && zip.has(styles) ? await readDateStyles(zip, styles, limits) : new Set<number>();
  return { sheet, sharedStrings: sharedStrings && zip.has(sharedStrings) ? sharedStrings : null, dateStyles, date1904 };
}

async function readDateStyles(zip: WorkbookZip, part: string, limits: ImportLimits): Promise<Set<number>> {
  const customDates = new Set<number>();
  const dateStyles = new Set<number>();
  let inCellXfs = false;
  let xf = 0;
  await readMeta(zip, part, limits, (name, a) => {
    if (name === 'numFmt' && a.formatCode !== undefined && isDateFormat(a.formatCode)) customDates.add(Number(a.numFmtId));
    else if (name === 'cellXfs') inCellXfs = true;
    else if (name === 'xf' && inCellXfs) {
      if (xf >= MAX_STYLES) throw invalid(`the workbook has more than ${fmt(MAX_STYLES)} cell styles`, [{ field: 'file', message: 'too many styles' }]);
      const id = Number(a.numFmtId ?? 0);
      if (DATE_FORMAT_IDS.has(id) || customDates.has(id)) dateStyles.add(xf);
      xf++;
    }
  }, (name) => {
    if (name === 'cellXfs') inCellXfs = false;
  });
  return dateStyles;
}
