import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ImportLimits } from '../config.ts';
import { limitExceeded } from './limits.ts';

/** A file an import reads: where it lies, its size and its SHA-256 (a resume must get the same file). */
export interface ImportFile {
  path: string;
  bytes: number;
  sha256: string;
  /** True for an upload kept in the data folder: deleted when the import no longer needs it. */
  kept: boolean;
}

/** The folder of kept uploads: the owner alone reads it (the files hold personal data). */
export function spoolDir(dataDir: string): string {
  const dir = path.join(dataDir, 'imports');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Writes an upload to `file` as it arrives, counting and hashing it; past imports.maxFileBytes
 * it stops, removes what it wrote and throws the limit error. The source is never destroyed
 * (an HTTP request still has to carry the answer): on an error the caller drains or closes it.
 */
export async function spool(source: Readable, file: string, limits: Pick<ImportLimits, 'maxFileBytes'>, kept: boolean): Promise<ImportFile> {
  const out = fs.createWriteStream(file, { mode: 0o600, flags: 'wx' });
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const raw of source.iterator({ destroyOnReturn: false })) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw as Buffer;
      bytes += chunk.length;
      if (bytes > limits.maxFileBytes) throw limitExceeded(limits, 'maxFileBytes', 'the file is larger than the limit', null, ' bytes');
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
  } catch (err) {
    out.destroy();
    fs.rmSync(file, { force: true });
    throw err;
  }
  return { path: file, bytes, sha256: hash.digest('hex'), kept };
}

/** A file given by path (the CLI): its size is checked before anything is read, then it is hashed. */
export async function describeFile(file: string, limits: Pick<ImportLimits, 'maxFileBytes'>): Promise<ImportFile> {
  const bytes = fs.statSync(file).size;
  if (bytes > limits.maxFileBytes) throw limitExceeded(limits, 'maxFileBytes', `the file is ${bytes.toLocaleString('en')} bytes, larger than the limit`, null, ' bytes');
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return { path: file, bytes, sha256: hash.digest('hex'), kept: false };
}
