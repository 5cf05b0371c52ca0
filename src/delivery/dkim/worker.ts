import { parentPort } from 'node:worker_threads';
import { decodeKey, dkimSignatureHeader } from './core.ts';
import type { DecodedKey } from './core.ts';

/**
 * Signing thread. Keys arrive once (as PEM) and stay decoded here; each request carries
 * the message bytes and gets back only the signature header line.
 */
export type WorkerRequest =
  | { type: 'key'; keyId: number; domain: string; selector: string; privateKeyPem: string }
  | { type: 'sign'; id: number; keyId: number; message: Uint8Array; signTime: number; headerList: string | undefined };

export type WorkerReply = { id: number; header: string } | { id: number; error: string };

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
  const key = keys.get(req.keyId);
  let reply: WorkerReply;
  if (!key) reply = { id: req.id, error: `DKIM: key ${req.keyId} was never sent to this worker` };
  else if (key instanceof Error) reply = { id: req.id, error: key.message };
  else {
    try {
      const message = Buffer.from(req.message.buffer, req.message.byteOffset, req.message.byteLength);
      reply = { id: req.id, header: dkimSignatureHeader(message, key, { signTime: req.signTime, headerList: req.headerList }) };
    } catch (err) {
      reply = { id: req.id, error: (err as Error).message };
    }
  }
  port.postMessage(reply);
});
