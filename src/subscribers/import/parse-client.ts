import { Worker } from 'node:worker_threads';
import { AppError } from '../../core/errors.ts';
import { fmt, fromWire } from './limits.ts';
import type { WireError } from './limits.ts';
import type { ParseJob } from './parse-worker.ts';
import type { ParsedBatch } from './rows.ts';

type WorkerMessage = { t: 'batch' | 'end'; batch: ParsedBatch } | { t: 'fail'; error: WireError };
type Event = { kind: 'message'; m: WorkerMessage } | { kind: 'error'; err: Error } | { kind: 'exit'; code: number } | { kind: 'abort' };

/**
 * Parses an import file in a worker thread and yields its batches. The worker has its own heap
 * (imports.workerHeapMb): a file that needs more makes the worker stop with an out-of-memory
 * error, which becomes a clear failure of this import, while the rest of the process (HTTP,
 * SMTP, the sender) never sees it. The worker parses at most two batches ahead of the caller
 * (it gets a credit for each batch taken), so memory does not grow with a slow store. Returning
 * early (the caller stops) or an abort of `signal` terminates the worker.
 */
export async function* parseInWorker(job: ParseJob, heapMb: number, signal?: AbortSignal): AsyncGenerator<ParsedBatch> {
  const worker = new Worker(new URL('./parse-worker.ts', import.meta.url), {
    workerData: job,
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.max(4, Math.min(32, Math.floor(heapMb / 8))), stackSizeMb: 4 },
  });
  const events: Event[] = [];
  let wake: (() => void) | null = null;
  const push = (e: Event) => {
    events.push(e);
    wake?.();
  };
  worker.on('message', (m: WorkerMessage) => push({ kind: 'message', m }));
  worker.on('error', (err) => push({ kind: 'error', err }));
  worker.on('exit', (code) => push({ kind: 'exit', code }));
  const onAbort = () => push({ kind: 'abort' });
  signal?.addEventListener('abort', onAbort);
  if (signal?.aborted) onAbort();
  let exited = false;
  try {
    for (;;) {
      while (!events.length) await new Promise<void>((resolve) => { wake = resolve; });
      wake = null;
      const e = events.shift()!;
      if (e.kind === 'message') {
        if (e.m.t === 'fail') throw fromWire(e.m.error);
        yield e.m.batch;
        if (e.m.t === 'end') return;
        worker.postMessage({ t: 'credit' });
      } else if (e.kind === 'abort') {
        throw signal!.reason;
      } else if (e.kind === 'error') {
        throw workerFailure(e.err, heapMb);
      } else {
        exited = true;
        throw new AppError('unavailable', `the import's parser stopped unexpectedly (exit code ${e.code})`);
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!exited) await worker.terminate();
  }
}

function workerFailure(err: Error, heapMb: number): AppError {
  if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new AppError('validation', `the file needs more memory to read than an import may use (limit imports.workerHeapMb = ${fmt(heapMb)} MiB): split it into smaller files, or save it as CSV`, {
      problems: [{ field: 'file', message: `exceeds imports.workerHeapMb (${heapMb})` }],
    });
  }
  return new AppError('unavailable', `the import's parser stopped: ${err.message}`, { cause: err });
}
