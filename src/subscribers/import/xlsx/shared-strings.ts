import type { ImportLimits } from '../../config.ts';
import { fmt, limitExceeded } from '../limits.ts';
import { XmlPart, readPart } from './xml.ts';
import type { WorkbookZip } from './zip.ts';

/** Strings are packed into slabs of this size; one string never spans two (it is at most maxLineBytes). */
const SLAB = 4 * 1024 * 1024;

/**
 * The workbook's shared-string table, which rows index into, so it is held while the sheet is
 * read. Held compactly: the UTF-8 bytes in 4 MiB slabs outside the JS heap and two integers per
 * string, rather than millions of JS strings (a 300-character string costs about 330 bytes
 * here; as JS strings in exceljs's cache, more than twice that, and it pinned whole XML chunks).
 * Its count and bytes stop at imports.maxSharedStrings / maxSharedStringsBytes.
 */
export class SharedStrings {
  readonly #limits: ImportLimits;
  readonly #slabs: Buffer[] = [];
  #slabUsed = SLAB;
  #starts = new Float64Array(1024);
  #lengths = new Uint32Array(1024);
  count = 0;
  bytes = 0;

  constructor(limits: ImportLimits) {
    this.#limits = limits;
  }

  add(text: string): void {
    if (this.count >= this.#limits.maxSharedStrings) throw limitExceeded(this.#limits, 'maxSharedStrings', 'the workbook has more shared strings than the limit');
    const size = Buffer.byteLength(text, 'utf8');
    if (this.bytes + size > this.#limits.maxSharedStringsBytes) throw limitExceeded(this.#limits, 'maxSharedStringsBytes', 'the workbook\'s shared strings are larger than the limit', null, ' bytes');
    if (size > SLAB) throw limitExceeded(this.#limits, 'maxLineBytes', 'a shared string is longer than the limit', null, ' bytes');
    if (!this.#slabs.length || this.#slabUsed + size > SLAB) {
      this.#slabs.push(Buffer.allocUnsafe(SLAB));
      this.#slabUsed = 0;
    }
    const slab = this.#slabs[this.#slabs.length - 1]!;
    if (this.count === this.#starts.length) this.#grow();
    slab.write(text, this.#slabUsed, 'utf8');
    this.#starts[this.count] = (this.#slabs.length - 1) * SLAB + this.#slabUsed;
    this.#lengths[this.count] = size;
    this.#slabUsed += size;
    this.bytes += size;
    this.count++;
  }

  #grow(): void {
    const n = Math.min(this.#starts.length * 2, this.#limits.maxSharedStrings);
    const starts = new Float64Array(n);
    starts.set(this.#starts);
    const lengths = new Uint32Array(n);
    lengths.set(this.#lengths);
    this.#starts = starts;
    this.#lengths = lengths;
  }

  /** The i-th string, or null when the table has no such entry. */
  get(i: number): string | null {
    if (!(i >= 0 && i < this.count)) return null;
    const start = this.#starts[i]!;
    const slab = this.#slabs[Math.floor(start / SLAB)]!;
    const at = start % SLAB;
    return slab.toString('utf8', at, at + this.#lengths[i]!);
  }
}

/**
 * Reads xl/sharedStrings.xml: each <si> is one string, the text of its <t> elements (plain, or
 * the runs <r> of rich text), without phonetic guides (<rPh>). A declared uniqueCount over the
 * limit is refused before any string is read; the strings really read are counted all the same.
 */
export async function readSharedStrings(zip: WorkbookZip, part: string, limits: ImportLimits): Promise<SharedStrings> {
  const table = new SharedStrings(limits);
  let inSi = false;
  let phonetic = 0;
  let inT = false;
  let current: string[] = [];
  let currentLength = 0;
  const parser = new XmlPart(part, limits, {
    open(name, attrs) {
      if (name === 'sst') {
        const declared = Number(attrs.uniqueCount ?? attrs.count);
        if (declared > limits.maxSharedStrings) throw limitExceeded(limits, 'maxSharedStrings', `the workbook declares ${fmt(declared)} shared strings`);
      } else if (name === 'si') {
        inSi = true;
        current = [];
        currentLength = 0;
      } else if (name === 'rPh') phonetic++;
      else if (name === 't' && inSi && !phonetic) inT = true;
    },
    close(name) {
      if (name === 't') inT = false;
      else if (name === 'rPh') phonetic--;
      else if (name === 'si' && inSi) {
        inSi = false;
        table.add(current.length === 1 ? current[0]! : current.join(''));
      }
    },
    text(text) {
      if (!inT) return;
      currentLength += text.length;
      if (currentLength > limits.maxLineBytes) throw limitExceeded(limits, 'maxLineBytes', `shared string ${fmt(table.count)} is longer than the limit`, null, ' bytes');
      current.push(text);
    },
  });
  await readPart(zip.text(part), parser);
  return table;
}
