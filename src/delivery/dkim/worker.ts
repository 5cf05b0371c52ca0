import { parentPort } from 'node:worker_threads';
import { decodeKey, dkimSignatureHeader } from './core.ts';
import type { DecodedKey } from './core.ts';

/**
 * Signing thread. Keys arrive once (as PEM) and stay decoded here. Sign requests arrive in
 * batches: every message of one event-loop turn in a single transferred buffer, with ids,
 * key ids and offsets beside it; one reply carries all the signature header lines. A
 * postMessage costs about as much as hashing a message, so one per batch, not per message.
 */
export type WorkerRequest =
  | { type: 'key'; keyId: number; domain: string; selector: string; privateKeyPem: string }
  | { type: 'batch'; ids: number[]; keyIds: number[]; ends: number[]; data: ArrayBuffer; signTime: number; headerList: string | undefined };

/** Parallel arrays: `headers[i]` is the line for `ids[i]`, or null with `errors[i]` set. */
export interface WorkerReply {
  ids: number[];
  headers: (string | null)[];
  errors: (string | null)[];
}

const keys = new Map<number, DecodedKey | Error>();
const port = parentPort;
if (!port) throw new Error('dkim worker must run in a worker thread');

port.on('message', (req: WorkerRequest) => {
  if (req.type === 'key') {
    try {
      keys.set(req.keyId, decodeKey(req));
    } catch (err) {
      keys.set(req.keyId, err as Error);
    }
    return;
  }
  const data = Buffer.from(req.data);
  const reply: WorkerReply = { ids: req.ids, headers: [], errors: [] };
  let start = 0;
  for (let i = 0; i < req.ids.length; i++) {
    const end = req.ends[i]!;
    const key = keys.get(req.keyIds[i]!);
    let header: string | null = null;
    let error: string | null = null;
    if (!key) error = `DKIM: key ${req.keyIds[i]} was never sent to this worker`;
    else if (key instanceof Error) error = key.message;
    else {
      try {
        header = dkimSignatureHeader(data.subarray(start, end), key, { signTime: req.signTime, headerList: req.headerList });
      } catch (err) {
        error = (err as Error).message;
      }
    }
    reply.headers.push(header);
    reply.errors.push(error);
    start = end;
  }
  port.postMessage(reply);
});
