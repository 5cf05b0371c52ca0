import { stringify } from 'csv-stringify/sync';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalid } from '../core/errors.ts';

export type ExportFormat = 'csv' | 'xlsx';

declare module 'fastify' {
  interface FastifyRequest {
    exportFormat: ExportFormat | null;
  }
}

/**
 * A spreadsheet evaluates a cell that starts with = + - @ (and, in some, tab or CR) as a
 * formula; a value from the log (a recipient, a reply text) must never run as one on an
 * auditor's machine. Such cells get a leading single quote, which spreadsheets show as text.
 */
export function neutraliseCell(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

/** Nested objects become dotted columns (`reasons.userunknown`), arrays one cell. */
export function flattenRow(row: Record<string, unknown>, prefix = '', out: Record<string, string | number> = {}): Record<string, string | number> {
  for (const [k, v] of Object.entries(row)) {
    const key = prefix + k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flattenRow(v as Record<string, unknown>, `${key}.`, out);
    else if (typeof v === 'number') out[key] = v;
    else out[key] = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** The columns of all rows, in first-seen order (a fine reason seen only in a later row still gets one). */
export function columnsOf(rows: Record<string, string | number>[]): string[] {
  const cols = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) cols.add(k);
  return [...cols];
}

const BOM = '\uFEFF';

/** CSV with a byte-order mark, so Excel reads the Chinese text as UTF-8. */
export function toCsv(columns: string[], rows: Record<string, string | number>[]): string {
  return BOM + stringify([columns, ...rows.map((r) => columns.map((c) => (typeof r[c] === 'number' ? r[c] : neutraliseCell(String(r[c] ?? '')))))]);
}

export async function toXlsx(columns: string[], rows: Record<string, string | number>[], sheet: string): Promise<Buffer> {
  // Loaded on first use: ExcelJS is large and most processes never write a spreadsheet.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(sheet.slice(0, 31));
  ws.addRow(columns);
  for (const r of rows) ws.addRow(columns.map((c) => (typeof r[c] === 'number' ? r[c] : neutraliseCell(String(r[c] ?? '')))));
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function declaresFormat(req: FastifyRequest): boolean {
  const schema = req.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined;
  return Boolean(schema?.properties && 'format' in schema.properties);
}

const CONTENT_TYPE: Record<ExportFormat, string> = { csv: 'text/csv; charset=utf-8', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' };

/**
 * Every list and statistics endpoint (a GET answering `{items: [...]}`) also answers
 * `format=csv` or `format=xlsx` with the same rows; `format=json` is the default. Routes that
 * declare a `format` of their own (reports, subscriber exports) are left alone.
 */
export function registerListExports(app: FastifyInstance): void {
  app.decorateRequest('exportFormat', null);
  app.addHook('preValidation', async (req) => {
    if (req.method !== 'GET' || !req.url.startsWith('/api/') || declaresFormat(req)) return;
    const query = req.query as Record<string, unknown> | undefined;
    if (!query || query.format === undefined) return;
    const format = query.format;
    if (format !== 'json' && format !== 'csv' && format !== 'xlsx') throw invalid(`unknown format ${String(format)}`, [{ field: '/querystring/format', message: 'json, csv or xlsx' }]);
    delete query.format;
    req.exportFormat = format === 'json' ? null : format;
  });
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (!req.exportFormat || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    if (!String(reply.getHeader('content-type') ?? '').startsWith('application/json')) return payload;
    const body = JSON.parse(payload) as { items?: unknown };
    if (!Array.isArray(body.items)) return payload;
    const rows = (body.items as Record<string, unknown>[]).map((r) => flattenRow(r));
    const columns = columnsOf(rows);
    const name = `${(req.routeOptions.url ?? 'export').replace(/^\/api\/v1\//, '').replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '')}-${new Date().toISOString().slice(0, 10)}`;
    reply.header('content-type', CONTENT_TYPE[req.exportFormat]);
    reply.header('content-disposition', `attachment; filename="${name}.${req.exportFormat}"`);
    return req.exportFormat === 'csv' ? toCsv(columns, rows) : toXlsx(columns, rows, name);
  });
}
