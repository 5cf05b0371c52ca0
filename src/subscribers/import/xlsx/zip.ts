import { StringDecoder } from 'node:string_decoder';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { invalid } from '../../../core/errors.ts';
import type { ImportLimits } from '../../config.ts';
import { fmt, limitExceeded } from '../limits.ts';

/** A workbook has a dozen parts; a ZIP of thousands of entries is not one to read. */
const MAX_ENTRIES = 10_000;

/**
 * The ZIP container of a workbook, read with yauzl from the file on disk: the central directory
 * gives every part's declared sizes before anything is inflated, parts are read in the order the
 * workbook needs them (no temporary files), and each part's inflated bytes are counted as they
 * stream, against the part's declared size (yauzl's validateEntrySizes) and against
 * imports.maxInflatedBytes for all parts together. Headers are checked, never trusted.
 */
export class WorkbookZip {
  readonly #zip: ZipFile;
  readonly #entries: Map<string, Entry>;
  readonly #limits: ImportLimits;
  #inflated = 0;

  private constructor(zip: ZipFile, entries: Map<string, Entry>, limits: ImportLimits) {
    this.#zip = zip;
    this.#entries = entries;
    this.#limits = limits;
  }

  static async open(file: string, limits: ImportLimits): Promise<WorkbookZip> {
    const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: true, strictFileNames: false });
    try {
      if (zip.entryCount > MAX_ENTRIES) throw invalid(`the ZIP holds ${fmt(zip.entryCount)} entries; a workbook has a few dozen`, [{ field: 'file', message: 'too many ZIP entries' }]);
      const entries = new Map<string, Entry>();
      // Part names are case-insensitive (OPC); a leading slash is allowed.
      for await (const e of zip.eachEntry()) entries.set(e.fileName.replace(/^\//, '').toLowerCase(), e);
      return new WorkbookZip(zip, entries, limits);
    } catch (err) {
      zip.close();
      throw err;
    }
  }

  has(name: string): boolean {
    return this.#entries.has(name.toLowerCase());
  }

  /** Inflated bytes read so far, all parts together. */
  get inflated(): number {
    return this.#inflated;
  }

  /** Declared size of a part (for progress), 0 when absent. */
  declaredSize(name: string): number {
    return this.#entries.get(name.toLowerCase())?.uncompressedSize ?? 0;
  }

  /**
   * A part's text, decoded as UTF-8 chunk by chunk. The part's declared size must fit in what is
   * left of the budget before inflating starts, and the bytes really inflated are counted as
   * they come (a part that inflates past its declared size fails in yauzl).
   */
  async *text(name: string, partLimit?: { bytes: number; key: keyof ImportLimits }): AsyncGenerator<string> {
    const entry = this.#entries.get(name.toLowerCase());
    if (!entry) throw invalid(`the workbook has no part ${name}`, [{ field: 'file', message: 'missing part' }]);
    if (entry.isEncrypted()) throw invalid('the workbook is encrypted; save it without a password and import again', [{ field: 'file', message: 'encrypted' }]);
    const remaining = this.#limits.maxInflatedBytes - this.#inflated;
    if (entry.uncompressedSize > remaining) {
      throw limitExceeded(this.#limits, 'maxInflatedBytes', `the workbook part ${entry.fileName} declares ${fmt(entry.uncompressedSize)} bytes uncompressed, more than the workbook may inflate to`, null, ' bytes');
    }
    if (partLimit && entry.uncompressedSize > partLimit.bytes) {
      throw limitExceeded(this.#limits, partLimit.key, `the workbook part ${entry.fileName} declares ${fmt(entry.uncompressedSize)} bytes uncompressed`, null, ' bytes');
    }
    const stream = await this.#zip.openReadStreamPromise(entry);
    const decoder = new StringDecoder('utf8');
    let own = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        own += chunk.length;
        this.#inflated += chunk.length;
        // yauzl stops a part at its declared size; counted here too, so the budget never depends on it.
        if (own > entry.uncompressedSize) {
          throw invalid(`the workbook part ${entry.fileName} inflates to more than the ${fmt(entry.uncompressedSize)} bytes its header declares: the file is damaged or forged`, [{ field: 'file', message: 'inflates past its declared size' }]);
        }
        if (this.#inflated > this.#limits.maxInflatedBytes) throw limitExceeded(this.#limits, 'maxInflatedBytes', 'the workbook inflates to more than the limit', null, ' bytes');
        const text = decoder.write(chunk);
        if (text) yield text;
      }
      const rest = decoder.end();
      if (rest) yield rest;
    } catch (err) {
      // yauzl's entry size validation: the part inflates to more than its header says.
      if (err instanceof Error && /too many bytes in the stream/.test(err.message)) {
        throw invalid(`the workbook part ${entry.fileName} inflates to more than the ${fmt(entry.uncompressedSize)} bytes its header declares: the file is damaged or forged`, [{ field: 'file', message: 'inflates past its declared size' }]);
      }
      throw err;
    } finally {
      stream.destroy();
    }
  }

  close(): void {
    this.#zip.close();
  }
}

/** The OLE2 container: an encrypted workbook, or the old binary .xls format. */
export function isOle2(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0xd0 && head[1] === 0xcf && head[2] === 0x11 && head[3] === 0xe0;
}
