import fs from 'node:fs/promises';
import { classifyMessage } from './classify.ts';

/** One output line of `fanout bounces classify`. */
export interface ClassifyLine {
  file: string;
  recipient: string;
  status: string;
  reply_code: string;
  reason: string;
  hard_bounce: boolean;
}

export interface ClassifyFilesResult {
  lines: ClassifyLine[];
  /** Files that could not be read, with the reason, in the order given. */
  errors: { file: string; message: string }[];
  /** Files that were read but held no recognisable bounce, complaint or auto-reply. */
  unrecognised: string[];
}

/** Classifies each file; an unreadable file is recorded as an error and the rest still run. */
export async function classifyFiles(files: string[]): Promise<ClassifyFilesResult> {
  const result: ClassifyFilesResult = { lines: [], errors: [], unrecognised: [] };
  for (const file of files) {
    let raw: Buffer;
    try {
      raw = await fs.readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const message = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      result.errors.push({ file, message });
      continue;
    }
    const report = classifyMessage(raw);
    if (report.recipients.length === 0) result.unrecognised.push(file);
    for (const r of report.recipients) {
      result.lines.push({ file, recipient: r.recipient, status: r.status, reply_code: r.replyCode, reason: r.reason, hard_bounce: r.hardBounce });
    }
  }
  return result;
}
