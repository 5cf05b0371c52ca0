import { parentPort, workerData } from 'node:worker_threads';
import { HOOK_NAMES } from './types.ts';
import type { HookModule } from './types.ts';

/**
 * One hook module, loaded in a worker thread of its own: the module's code, its failures, its
 * infinite loops and its memory stay here, and the host answers for it when it does not.
 */
const port = parentPort!;
const { url } = workerData as { url: string };

try {
  const loaded = (await import(url)) as { default?: HookModule } & HookModule;
  const mod: HookModule = loaded.default ?? loaded;
  const names = HOOK_NAMES.filter((n) => typeof mod[n] === 'function');
  port.postMessage({ type: 'ready', names });
  port.on('message', (call: { id: number; hook: (typeof HOOK_NAMES)[number]; payload: unknown }) => {
    const fn = mod[call.hook] as ((p: unknown) => unknown) | undefined;
    Promise.resolve()
      .then(() => (fn ? fn(call.payload) : null))
      .then(
        (result) => port.postMessage({ type: 'result', id: call.id, ok: true, result: result ?? null }),
        (err: unknown) => port.postMessage({ type: 'result', id: call.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
} catch (err) {
  port.postMessage({ type: 'load-error', error: err instanceof Error ? err.message : String(err) });
}
