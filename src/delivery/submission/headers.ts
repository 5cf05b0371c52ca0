import { idBytes } from '../../core/ids.ts';

export interface HeaderField {
  /** The field name lower-cased, e.g. "from". */
  name: string;
  /** The value unfolded (continuation lines joined), without the leading space. */
  value: string;
  /** Offsets of the whole field (continuation lines included, line break included) in the message. */
  start: number;
  end: number;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** Offset of the first byte after the header fields (the blank line, or the body). */
  end: number;
}

// A field name is printable US-ASCII without ":"; obsolete syntax allows spaces before the colon
// (RFC 5322 4.5), and a receiver reading "From :" as From must see it counted as one here too.
const FIELD = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/**
 * The header fields of a message stored with CRLF line ends. The block ends at the first empty
 * line, or at the first line that is neither a field nor a continuation (read as the body, as
 * MTAs do).
 */
export function readHeaders(raw: Buffer): HeaderBlock {
  const fields: HeaderField[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const lf = raw.indexOf(0x0a, pos);
    const lineEnd = lf < 0 ? raw.length : lf + 1;
    const first = raw[pos];
    if (first === 0x0d || first === 0x0a) return { fields, end: pos };
    if ((first === 0x20 || first === 0x09) && fields.length) {
      const f = fields[fields.length - 1]!;
      f.value += raw.toString('utf8', pos, lineEnd).replace(/\r?\n$/, '');
      f.end = lineEnd;
      pos = lineEnd;
      continue;
    }
    const line = raw.toString('utf8', pos, lineEnd).replace(/\r?\n$/, '');
    const m = FIELD.exec(line);
    if (!m) return { fields, end: pos };
    fields.push({ name: m[1]!.toLowerCase(), value: line.slice(m[0].length).replace(/^[ \t]+/, ''), start: pos, end: lineEnd });
    pos = lineEnd;
  }
  return { fields, end: pos };
}

export interface PreparedMessage {
  raw: Buffer;
  headerMessageId: string;
  /** From X-Fanout-Stream, when the client chose a lane; the header is removed. */
  lane: 'transactional' | 'bulk' | null;
}

export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/**
 * Adds what a submission server adds (RFC 6409 8): a Received line on top, and a Message-ID
 * and a Date when the client sent none. X-Fanout-Stream (the client's choice of lane) is taken
 * out. Every other byte of the message is kept as it came.
 */
export function prepareSubmitted(raw: Buffer, headers: HeaderBlock, info: { clientIp: string; helo: string; hostname: string; queueId: string; tls: boolean; authenticated: boolean; fromDomain: string; now: Date }): PreparedMessage {
  let lane: PreparedMessage['lane'] = null;
  const drop: HeaderField[] = [];
  let headerMessageId = '';
  let hasDate = false;
  for (const f of headers.fields) {
    if (f.name === 'x-fanout-stream') {
      const v = f.value.trim().toLowerCase();
      if (v === 'transactional' || v === 'bulk') lane = v;
      drop.push(f);
    } else if (f.name === 'message-id' && !headerMessageId && f.value.trim()) {
      headerMessageId = f.value.replace(/\s+/g, ' ').trim();
    } else if (f.name === 'date' && f.value.trim()) {
      hasDate = true;
    }
  }
  let add = '';
  if (!headerMessageId) {
    headerMessageId = `<${info.queueId}.${idBytes(6).toString('hex')}@${info.fromDomain || info.hostname}>`;
    add += `Message-ID: ${headerMessageId}\r\n`;
  }
  if (!hasDate) add += `Date: ${rfc5322Date(info.now)}\r\n`;
  const protocol = `ESMTP${info.tls ? 'S' : ''}${info.authenticated ? 'A' : ''}`;
  const helo = info.helo.replace(/[^\x21-\x7e]/g, '').slice(0, 200) || 'unknown';
  const received = `Received: from ${helo} ([${info.clientIp}])\r\n\tby ${info.hostname} (Fanout) with ${protocol} id ${info.queueId};\r\n\t${rfc5322Date(info.now)}\r\n`;
  const parts: Buffer[] = [Buffer.from(received + add, 'latin1')];
  let pos = 0;
  for (const f of drop) {
    parts.push(raw.subarray(pos, f.start));
    pos = f.end;
  }
  parts.push(raw.subarray(pos));
  return { raw: Buffer.concat(parts), headerMessageId, lane };
}
