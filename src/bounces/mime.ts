/**
 * A small, forgiving MIME walker for bounce messages. Bounces are often malformed (missing
 * boundaries, bare LF, odd charsets), so nothing here throws on bad input: the worst outcome
 * is a part whose body is the undecoded text. It works on "binary" (latin1) strings so byte
 * values survive until a part is decoded with its own charset, and it is much cheaper than a
 * full streaming parser, which matters for the throughput benchmark.
 */

export interface Headers {
  /** Lower-cased field name → every value in order, unfolded, encoded words decoded. */
  readonly fields: Map<string, string[]>;
  /** The raw header block (binary string), used by rules that look at header text. */
  readonly raw: string;
}

export interface MimePart {
  headers: Headers;
  /** Lower-cased media type, e.g. `text/plain`; `text/plain` when absent. */
  type: string;
  params: Record<string, string>;
  /** Undecoded body as a binary string. */
  rawBody: string;
  children: MimePart[];
  /** For message/rfc822 and text/rfc822-headers parts: the enclosed message. */
  enclosed?: MimePart;
  /** Set when the walker had to guess (missing closing boundary, no header/body separator). */
  damaged: boolean;
}

const MAX_DEPTH = 12;
/** More parts than any real bounce has; the rest of a runaway multipart is left unread. */
const MAX_PARTS = 500;

export function header(h: Headers, name: string): string | undefined {
  return h.fields.get(name)?.[0];
}

export function headerAll(h: Headers, name: string): string[] {
  return h.fields.get(name) ?? [];
}

/** Splits a binary string into header block and body at the first empty line. */
function splitHead(text: string): { head: string; body: string; found: boolean } {
  const m = /\r?\n\r?\n/.exec(text);
  if (!m) {
    // A message that is nothing but headers, or nothing but body: decide by the first line.
    return /^[\x21-\x39\x3b-\x7e]+:/.test(text) ? { head: text, body: '', found: false } : { head: '', body: text, found: false };
  }
  if (m.index === 0) return { head: '', body: text.slice(m[0].length), found: true };
  return { head: text.slice(0, m.index), body: text.slice(m.index + m[0].length), found: true };
}

export function parseHeaders(head: string): Headers {
  const fields = new Map<string, string[]>();
  const lines = head.split(/\r?\n/);
  let name = '';
  let value = '';
  const flush = () => {
    if (!name) return;
    const key = name.toLowerCase();
    const list = fields.get(key);
    const decoded = decodeWords(value.trim());
    if (list) list.push(decoded);
    else fields.set(key, [decoded]);
  };
  for (const line of lines) {
    if (/^[ \t]/.test(line) && name) {
      value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || /\s/.test(line.slice(0, colon).trimEnd())) {
      // Some mailers fold parameters onto an unindented line ("boundary=..."): keep those as a
      // continuation; anything else (an mbox "From " line) is ignored rather than fatal.
      if (name && /^[\w*.-]+\s*=/.test(line.trim())) value += ' ' + line.trim();
      continue;
    }
    flush();
    name = line.slice(0, colon).trim();
    value = line.slice(colon + 1);
  }
  flush();
  return { fields, raw: head };
}

/** Parses `type/subtype; a=b; c="d"` into the lower-cased type and its parameters. */
export function parseContentType(value: string | undefined): { type: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  if (!value) return { type: 'text/plain', params };
  const typeMatch = /^\s*([\w.+-]+\/[\w.+-]+)/.exec(value);
  const type = typeMatch?.[1]?.toLowerCase() ?? 'text/plain';
  const restStart = typeMatch ? typeMatch[0].length : Math.max(0, value.indexOf(';'));
  {
    // Parameters separated by ";" as the RFC says, or only by whitespace as some mailers write them.
    const re = /[;\s]\s*([\w*.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"?|([^;\s]*))/g;
    let m: RegExpExecArray | null;
    const rest = value.slice(restStart);
    while ((m = re.exec(rest))) {
      const key = (m[1] ?? '').toLowerCase();
      params[key] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    }
  }
  return { type: type.includes('/') ? type : 'text/plain', params };
}

export function parseMessage(input: Buffer | string, depth = 0): MimePart {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const { head, body, found } = splitHead(text);
  const headers = parseHeaders(head);
  const { type, params } = parseContentType(header(headers, 'content-type'));
  const part: MimePart = { headers, type, params, rawBody: body, children: [], damaged: !found };
  if (depth >= MAX_DEPTH) return part;
  if (type.startsWith('multipart/')) {
    const boundary = params.boundary;
    splitMultipart(part, boundary ?? '\u0000no-boundary', depth);
  } else if (type === 'message/rfc822' || type === 'text/rfc822-headers' || type === 'message/rfc822-headers' || type === 'message/global') {
    part.enclosed = parseMessage(decodeTransfer(part), depth + 1);
  }
  return part;
}

function splitMultipart(part: MimePart, boundary: string, depth: number): void {
  const body = part.rawBody;
  const delim = '--' + boundary;
  const starts: number[] = [];
  let closed = -1;
  let pos = 0;
  while (pos < body.length) {
    const at = body.indexOf(delim, pos);
    if (at < 0) break;
    // A boundary only counts at the start of a line.
    if (starts.length >= MAX_PARTS) break;
    if (at === 0 || body[at - 1] === '\n') {
      const after = body.slice(at + delim.length, at + delim.length + 2);
      if (after === '--') {
        closed = at;
        break;
      }
      const eol = body.indexOf('\n', at);
      starts.push(eol < 0 ? body.length : eol + 1);
    }
    pos = at + delim.length;
  }
  if (starts.length === 0) {
    // No boundary in the body (a relay stripped them): read the whole body as one text part.
    part.damaged = true;
    part.children.push(parseMessage('Content-Type: text/plain\n\n' + body, depth + 1));
    return;
  }
  if (closed < 0) part.damaged = true;
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i] as number;
    const nextStart = starts[i + 1];
    let end: number;
    if (nextStart !== undefined) end = body.lastIndexOf(delim, nextStart - 1);
    else end = closed >= 0 ? closed : body.length;
    if (end < start) end = start;
    let chunk = body.slice(start, end);
    chunk = chunk.replace(/\r?\n$/, '');
    // A part with no headers starts with its body (a blank line): keep the default type.
    const child = parseMessage(chunk.startsWith('\n') || chunk.startsWith('\r\n') ? 'Content-Type: text/plain' + chunk : chunk, depth + 1);
    part.children.push(child);
  }
}

/** The body with its Content-Transfer-Encoding removed, still a binary string. */
export function decodeTransfer(part: MimePart): string {
  const cte = (header(part.headers, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  if (cte === 'base64') return Buffer.from(part.rawBody.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
  if (cte === 'quoted-printable') return decodeQuotedPrintable(part.rawBody);
  return part.rawBody;
}

export function decodeQuotedPrintable(s: string): string {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

type Decoder = InstanceType<typeof TextDecoder>;

const decoders = new Map<string, Decoder | null>();

function decoderFor(charset: string): Decoder | null {
  const key = charset.trim().toLowerCase();
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      d = new TextDecoder(key === 'ks_c_5601-1987' ? 'euc-kr' : key);
    } catch {
      d = null;
    }
    decoders.set(key, d);
  }
  return d;
}

/** Turns a binary string into text using `charset`; unknown charsets fall back to UTF-8 when valid, else latin1. */
export function decodeCharset(binary: string, charset: string | undefined): string {
  // Pure ASCII needs no decoding at all: the common case, and the cheapest.
  // ISO-2022 charsets are 7-bit but switch sets with ESC, so they need decoding too.
  if (!/[\x80-\xff]/.test(binary) && !binary.includes('\u001b')) return binary;
  const bytes = Buffer.from(binary, 'latin1');
  const d = charset ? decoderFor(charset) : null;
  if (d) return d.decode(bytes);
  const utf8 = bytes.toString('utf8');
  return utf8.includes('\ufffd') ? binary : utf8;
}

/** The decoded text of a leaf part. */
export function partText(part: MimePart): string {
  return decodeCharset(decodeTransfer(part), part.params.charset);
}

/** Decodes RFC 2047 encoded words; malformed words are left as they are. */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return decodeCharset(value, undefined);
  const joined = value.replace(/(\?=)\s+(=\?)/g, '$1$2');
  return joined.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (whole, cs: string, enc: string, data: string) => {
    const charset = cs.split('*')[0] ?? cs;
    let bin: string;
    if (enc.toLowerCase() === 'b') bin = Buffer.from(data, 'base64').toString('latin1');
    else bin = decodeQuotedPrintable(data.replace(/_/g, ' '));
    const d = decoderFor(charset);
    return d ? d.decode(Buffer.from(bin, 'latin1')) : whole;
  });
}

/** Every part in document order, the root first, descending into enclosed messages only when asked. */
export function walk(part: MimePart, intoEnclosed = false, out: MimePart[] = []): MimePart[] {
  out.push(part);
  for (const c of part.children) walk(c, intoEnclosed, out);
  if (intoEnclosed && part.enclosed) walk(part.enclosed, intoEnclosed, out);
  return out;
}
