// The parsing side of an import, run in a worker thread with its own heap limit (see
// parse-client.ts): reads the file, checks the limits, and posts batches of rows to the main
// thread, which writes them. At most CREDIT batches are ahead of the writer.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../core/errors.ts';
import type { ImportLimits } from '../config.ts';
import { readCsvRecords } from './csv.ts';
import { toWire } from './limits.ts';
import type { RecordItem } from './records.ts';
import { RowAssembler } from './rows.ts';
import type { ParsedBatch } from './rows.ts';
import { readXlsxRecords } from './xlsx.ts';

export interface ParseJob {
  file: string;
  format: 'csv' | 'xlsx';
  limits: ImportLimits;
  skipThroughLine: number;
  nice: number;
}

export const CREDIT = 2;

const port = parentPort!;
const job = workerData as ParseJob;

// Parsing yields the CPU to HTTP, SMTP and the sender: on Linux this lowers this thread only.
try {
  if (job.nice) os.setPriority(job.nice);
} catch {
  // not permitted here: parse at normal priority
}
let credit = CREDIT;
let wake: (() => void) | null = null;
port.on('message', (m: { t: 'credit' }) => {
  if (m.t !== 'credit') return;
  credit++;
  wake?.();
});

async function send(t: 'batch' | 'end', batch: ParsedBatch): Promise<void> {
  while (credit === 0) await new Promise<void>((resolve) => { wake = resolve; });
  wake = null;
  credit--;
  port.postMessage({ t, batch });
}

async function run(): Promise<void> {
  const rows = new RowAssembler(job.format, job.limits, job.skipThroughLine);
  const onBytes = (n: number) => { rows.bytesRead += n; };
  const records: AsyncGenerator<RecordItem[]> = job.format === 'xlsx'
    ? readXlsxRecords(job.file, job.limits, onBytes)
    : readCsvRecords(fs.createReadStream(job.file, { highWaterMark: 256 * 1024 }), { limits: job.limits, onBytes });
  for await (const items of records) {
    for (const item of items) {
      const batch = rows.push(item);
      if (batch) await send('batch', batch);
    }
  }
  await send('end', rows.end());
}

// Done either way: unref the port so the worker exits once its last message is out.
run().then(() => port.unref(), (err: unknown) => {
  const wire = err instanceof AppError ? toWire(err) : { kind: 'unavailable' as const, message: `the file could not be read: ${err instanceof Error ? err.message : String(err)}`, problems: [] };
  port.postMessage({ t: 'fail', error: wire });
  port.unref();
});
