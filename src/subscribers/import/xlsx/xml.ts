import { SaxesParser } from 'saxes';
import type { ImportLimits } from '../../config.ts';
import { limitExceeded } from '../limits.ts';

/** SpreadsheetML nests a few levels; anything deeper is not a workbook part. */
const MAX_DEPTH = 64;
/** A cell has three or four attributes; a tag with hundreds is built to grow the parser. */
const MAX_ATTRIBUTES = 64;

export interface XmlHandlers {
  /** An element opens; `name` without its namespace prefix. */
  open(name: string, attributes: Record<string, string>): void;
  close(name: string): void;
  text?(text: string): void;
}

/** The parser's buffers for an element or text not yet complete (saxes keeps them private). */
interface SaxesBuffers { text?: string; name?: string; piTarget?: string }

const local = (name: string) => {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
};

/**
 * A streaming XML parser (saxes) for one workbook part, with what saxes leaves to its user
 * bounded: nesting depth, attributes per element, and the text, comment or tag it is still
 * collecting (checked after every chunk, so at most one chunk beyond imports.maxLineBytes is
 * held). Entities are XML's five only: saxes does not expand DTD entities.
 */
export class XmlPart {
  readonly #parser: SaxesParser<{ position: false }>;
  readonly #part: string;
  readonly #limits: ImportLimits;
  #depth = 0;
  #attributes = 0;

  constructor(part: string, limits: ImportLimits, h: XmlHandlers) {
    this.#part = part;
    this.#limits = limits;
    const p = new SaxesParser({ position: false });
    p.on('opentagstart', () => {
      this.#attributes = 0;
    });
    p.on('attribute', () => {
      if (++this.#attributes > MAX_ATTRIBUTES) throw this.#malformed(`an element with more than ${MAX_ATTRIBUTES} attributes`);
    });
    p.on('opentag', (tag) => {
      if (++this.#depth > MAX_DEPTH) throw this.#malformed(`elements nested more than ${MAX_DEPTH} deep`);
      h.open(local(tag.name), tag.attributes as Record<string, string>);
    });
    p.on('closetag', (tag) => {
      this.#depth--;
      h.close(local(tag.name));
    });
    if (h.text) {
      const text = h.text;
      p.on('text', text);
      p.on('cdata', text);
    }
    this.#parser = p;
  }

  #malformed(what: string): Error {
    return new Error(`${this.#part} has ${what}`);
  }

  write(chunk: string): void {
    this.#parser.write(chunk);
    const b = this.#parser as unknown as SaxesBuffers;
    const pending = (b.text?.length ?? 0) + (b.name?.length ?? 0) + (b.piTarget?.length ?? 0);
    if (pending > this.#limits.maxLineBytes) {
      throw limitExceeded(this.#limits, 'maxLineBytes', `the workbook part ${this.#part} holds a text, comment or tag longer than the limit`, null, ' bytes');
    }
  }

  close(): void {
    this.#parser.close();
  }
}

/** Every chunk of a part through one parser, until the part ends or `stop()` says enough. */
export async function readPart(chunks: AsyncIterable<string>, parser: XmlPart, stop: () => boolean = () => false): Promise<void> {
  for await (const chunk of chunks) {
    parser.write(chunk);
    if (stop()) return;
  }
  parser.close();
}
