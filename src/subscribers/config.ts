import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;
const MiB = 1024 * 1024;

/**
 * Hard limits of subscriber imports (CSV and XLSX), owned by the subscribers capability. A file
 * past any of them is refused with an error naming the limit, and its import ends `failed`.
 * The defaults take a million-row workbook with a few text columns (Excel's own maximum is
 * 1,048,576 rows) and stop anything that would need more than a few hundred MiB to read.
 */
export const ImportConfigSchema = Type.Object({
  /** Size of the uploaded (or, for the CLI, the given) file. */
  maxFileBytes: Type.Integer({ minimum: 1024, default: 256 * MiB }),
  /** Data rows of one file. */
  maxRows: Type.Integer({ minimum: 1, default: 5_000_000 }),
  /** Columns of any row (CSV fields, XLSX column of a non-empty cell). */
  maxColumns: Type.Integer({ minimum: 1, default: 512 }),
  /** One CSV line (or quoted record), or the text of one XLSX row. */
  maxLineBytes: Type.Integer({ minimum: 1024, default: 64 * 1024 }),
  /** Physical lines one quoted CSV record may span. */
  maxRecordLines: Type.Integer({ minimum: 1, default: 100 }),
  /** One CSV field or XLSX cell. */
  maxFieldBytes: Type.Integer({ minimum: 256, default: 16 * 1024 }),
  /** XLSX: bytes inflated from the ZIP, all parts read together (zip bombs). */
  maxInflatedBytes: Type.Integer({ minimum: MiB, default: 512 * MiB }),
  /** XLSX: entries of the sharedStrings table. */
  maxSharedStrings: Type.Integer({ minimum: 1, default: 4_000_000 }),
  /** XLSX: UTF-8 bytes of the shared strings together (they are held while the sheet is read). */
  maxSharedStringsBytes: Type.Integer({ minimum: 1024, maximum: 2048 * MiB, default: 64 * MiB }),
  /** XLSX: cells of the sheet, empty ones included. */
  maxCells: Type.Integer({ minimum: 1, default: 20_000_000 }),
  /** Heap of the worker thread that parses a file; past it the worker stops, not the server. */
  workerHeapMb: Type.Integer({ minimum: 16, default: 256 }),
  /** Nice value of the parsing threads (Linux: per thread), so HTTP, SMTP and the sender come first. */
  workerNice: Type.Integer({ minimum: 0, maximum: 19, default: 10 }),
  /** Imports parsed at once on one node; more are answered 429. */
  maxConcurrent: Type.Integer({ minimum: 1, default: 2 }),
  /** Lease of the node working an import; another node takes over when it expires. */
  leaseSeconds: Type.Integer({ minimum: 5, default: 60 }),
  /** How long the uploaded file of a failed import is kept for a resume. */
  keepFailedHours: Type.Number({ minimum: 0, default: 24 }),
}, { ...closed, default: {} });

export type ImportConfig = Static<typeof ImportConfigSchema>;

/** The limits the parser enforces (the rest of ImportConfig is about running imports). */
export type ImportLimits = Pick<ImportConfig, 'maxFileBytes' | 'maxRows' | 'maxColumns' | 'maxLineBytes' | 'maxRecordLines' | 'maxFieldBytes'
  | 'maxInflatedBytes' | 'maxSharedStrings' | 'maxSharedStringsBytes' | 'maxCells'>;

declare module '../config/schema.ts' {
  interface CapabilityConfigSections {
    /** Subscriber import limits and workers. */
    imports: ImportConfig;
  }
}
