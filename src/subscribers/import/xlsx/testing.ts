// Test helpers: workbooks built part by part, including the forged ones an attacker sends (lying
// sizes, parts that inflate to gigabytes). No ZIP library writes a header that lies about its
// size, hence this small writer; it is used by tests only.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

export interface ZipPart {
  name: string;
  /** The content, in chunks (a generator keeps a huge part out of memory: only its deflated form is kept). */
  content: string | Buffer | Iterable<string | Buffer>;
  /** Deflate (default) or store. */
  store?: boolean;
  /** Written as the uncompressed size in both headers instead of the true one. */
  declaredSize?: number;
}

async function deflatePart(part: ZipPart): Promise<{ data: Buffer; crc: number; size: number }> {
  const chunks = typeof part.content === 'string' || Buffer.isBuffer(part.content) ? [part.content] : part.content;
  let crc = 0;
  let size = 0;
  const source = Readable.from((function* () {
    for (const c of chunks) {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      crc = zlib.crc32(b, crc);
      size += b.length;
      yield b;
    }
  })());
  const out: Buffer[] = [];
  const collect = async (src: AsyncIterable<Buffer>) => {
    for await (const b of src) out.push(b);
  };
  if (part.store) await pipeline(source, collect);
  else await pipeline(source, zlib.createDeflateRaw({ level: 6 }), collect);
  return { data: Buffer.concat(out), crc, size };
}

/** A ZIP archive of the parts, in order. */
export async function zip(parts: ZipPart[]): Promise<Buffer> {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const { data, crc, size } = await deflatePart(part);
    const name = Buffer.from(part.name);
    const declared = part.declaredSize ?? size;
    const method = part.store ? 0 : 8;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(declared, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt32LE(crc >>> 0, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(declared, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    central.push(cd, name);
    offset += local.length + name.length + data.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cdBuf, end]);
}

const NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

export const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A sheet of inline-string rows, as XML. */
export function sheetXml(rows: string[][]): string {
  const body = rows.map((r, i) => `<row r="${i + 1}">${r.map((v) => `<c t="inlineStr"><is><t>${xmlEscape(v)}</t></is></c>`).join('')}</row>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><worksheet ${NS}><sheetData>${body}</sheetData></worksheet>`;
}

/** The parts of a minimal workbook around the given sheet (and shared strings, when given). */
export function workbookParts(sheet: ZipPart['content'], sharedStrings?: ZipPart['content'], over: Partial<Record<'sheet' | 'sharedStrings', Partial<ZipPart>>> = {}): ZipPart[] {
  return [
    { name: '[Content_Types].xml', content: '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>' },
    { name: '_rels/.rels', content: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>` },
    { name: 'xl/workbook.xml', content: `<?xml version="1.0" encoding="UTF-8"?><workbook ${NS} xmlns:r="${REL}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>` },
    { name: 'xl/_rels/workbook.xml.rels', content: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/>${sharedStrings === undefined ? '' : `<Relationship Id="rId2" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/>`}</Relationships>` },
    ...(sharedStrings === undefined ? [] : [{ name: 'xl/sharedStrings.xml', content: sharedStrings, ...over.sharedStrings }]),
    { name: 'xl/worksheets/sheet1.xml', content: sheet, ...over.sheet },
  ];
}

/** A sharedStrings part of `count` distinct strings made by `text(i)`, streamed; `declared` is its uniqueCount attribute. */
export function* sharedStringsXml(count: number, text: (i: number) => string, declared?: number): Generator<string> {
  yield `<?xml version="1.0" encoding="UTF-8"?><sst ${NS}${declared === undefined ? '' : ` uniqueCount="${declared}"`}>`;
  let buf = '';
  for (let i = 0; i < count; i++) {
    buf += `<si><t>${text(i)}</t></si>`;
    if (buf.length > 1 << 16) {
      yield buf;
      buf = '';
    }
  }
  yield `${buf}</sst>`;
}

/** A sheet of `rows` rows whose two cells are shared strings 2i and 2i+1, after a header row of inline strings. */
export function* sharedStringSheetXml(rows: number): Generator<string> {
  yield `<?xml version="1.0" encoding="UTF-8"?><worksheet ${NS}><sheetData><row r="1"><c t="inlineStr"><is><t>email</t></is></c><c t="inlineStr"><is><t>note</t></is></c></row>`;
  let buf = '';
  for (let i = 0; i < rows; i++) {
    buf += `<row r="${i + 2}"><c t="s"><v>${2 * i}</v></c><c t="s"><v>${2 * i + 1}</v></c></row>`;
    if (buf.length > 1 << 16) {
      yield buf;
      buf = '';
    }
  }
  yield `${buf}</sheetData></worksheet>`;
}
