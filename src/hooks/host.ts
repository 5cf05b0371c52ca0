import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { HooksConfig } from './config.ts';
import type { HookName } from './types.ts';

export type CallOutcome = { ok: true; value: unknown } | { ok: false; error: string; timedOut: boolean };

interface Call {
  id: number;
  hook: HookName;
  payload: unknown;
  done: (o: CallOutcome) => void;
  timer: NodeJS.Timeout;
  slot: Slot | null;
  sentAt: number;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Calls posted to the worker and not answered yet, oldest first. */
  inflight: Map<number, Call>;
}

/** Calls one worker holds at once: several in flight hide the thread hop's latency. */
const PIPELINE = 16;
/** A worker whose oldest call is older than this gets no new call while another worker is answering. */
const SUSPECT_MS = 25;

export interface ModuleStats {
  module: string;
  hooks: HookName[];
  calls: number;
  failures: number;
  timeouts: number;
  lastError: string | null;
}

let nextId = 1;

/**
 * The worker threads of one hook module. Calls go to the worker that is answering (a few in
 * flight each), and each is answered within the time limit: a worker whose call is late is
 * terminated (a hook stuck in a loop cannot be stopped any other way) and replaced, its other
 * unanswered calls go to the other workers, and a worker slow to answer gets no new calls while
 * another one answers, so one stuck message does not hold up the rest.
 */
export class ModulePool {
  readonly file: string;
  readonly hooks: Set<HookName>;
  readonly stats: ModuleStats;
  readonly #url: string;
  readonly #config: HooksConfig;
  readonly #log?: Logger;
  readonly #slots: Slot[] = [];
  readonly #queue: Call[] = [];
  #closed = false;

  private constructor(file: string, hooks: HookName[], config: HooksConfig, log?: Logger) {
    this.file = file;
    this.hooks = new Set(hooks);
    this.#url = pathToFileURL(file).href;
    this.#config = config;
    this.#log = log;
    this.stats = { module: file, hooks, calls: 0, failures: 0, timeouts: 0, lastError: null };
  }

  /** Loads the module once to learn its hooks; a module that does not load stops start-up with why. */
  static async load(file: string, config: HooksConfig, log?: Logger): Promise<ModulePool> {
    const abs = path.resolve(file);
    const probe = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { url: pathToFileURL(abs).href }, resourceLimits: { maxOldGenerationSizeMb: config.heapMb } });
    const names = await new Promise<HookName[]>((resolve, reject) => {
      probe.once('message', (m: { type: string; names?: HookName[]; error?: string }) => (m.type === 'ready' ? resolve(m.names ?? []) : reject(new Error(`hook module ${file}: ${m.error}`))));
      probe.once('error', (err) => reject(new Error(`hook module ${file}: ${err.message}`)));
    });
    const pool = new ModulePool(abs, names, config, log);
    pool.#slots.push(pool.#adopt(probe, true));
    for (let i = 1; i < config.workersPerModule; i++) pool.#slots.push(pool.#spawn());
    return pool;
  }

  #spawn(): Slot {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: { url: this.#url }, resourceLimits: { maxOldGenerationSizeMb: this.#config.heapMb } });
    return this.#adopt(worker, false);
  }

  #adopt(worker: Worker, ready: boolean): Slot {
    const slot: Slot = { worker, ready, inflight: new Map() };
    worker.unref();
    worker.on('message', (m: { type: string; id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (m.type === 'ready') {
        slot.ready = true;
        this.#pump();
      } else if (m.type === 'result' && m.id !== undefined && slot.inflight.has(m.id)) {
        const call = slot.inflight.get(m.id)!;
        slot.inflight.delete(m.id);
        clearTimeout(call.timer);
        call.done(m.ok ? { ok: true, value: m.result } : { ok: false, error: m.error ?? 'hook failed', timedOut: false });
        this.#pump();
      }
    });
    // A worker that dies (out of memory, process.exit in the module) fails its call and is replaced.
    worker.on('exit', () => this.#replace(slot, 'the hook worker exited'));
    worker.on('error', (err) => this.#replace(slot, err.message));
    return slot;
  }

  #replace(slot: Slot, why: string): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0) return;
    for (const call of slot.inflight.values()) {
      clearTimeout(call.timer);
      call.done({ ok: false, error: why, timedOut: false });
    }
    slot.inflight.clear();
    if (this.#closed) return;
    this.#slots[i] = this.#spawn();
  }

  call(hook: HookName, payload: unknown): Promise<CallOutcome> {
    this.stats.calls++;
    return new Promise<CallOutcome>((resolve) => {
      const call: Call = {
        id: nextId++, hook, payload, slot: null, sentAt: 0,
        done: (o) => {
          if (!o.ok) {
            this.stats.failures++;
            if (o.timedOut) this.stats.timeouts++;
            this.stats.lastError = o.error;
            this.#log?.warn({ hook, module: this.file, error: o.error, timedOut: o.timedOut }, 'extension hook failed; the configured fallback answers');
          }
          resolve(o);
        },
        timer: setTimeout(() => this.#timeout(call), this.#config.timeoutMs),
      };
      this.#queue.push(call);
      this.#pump();
    });
  }

  #timeout(call: Call): void {
    const queued = this.#queue.indexOf(call);
    if (queued >= 0) this.#queue.splice(queued, 1);
    const slot = call.slot;
    if (slot && slot.inflight.has(call.id)) {
      slot.inflight.delete(call.id);
      const i = this.#slots.indexOf(slot);
      slot.worker.removeAllListeners('exit');
      void slot.worker.terminate();
      if (i >= 0 && !this.#closed) this.#slots[i] = this.#spawn();
      // The others it held never got an answer: they go to the front of the queue again (a
      // call may so run twice, once on the stuck worker and once on another).
      this.#queue.unshift(...slot.inflight.values());
      slot.inflight.clear();
    }
    call.done({ ok: false, error: `no answer within ${this.#config.timeoutMs} ms`, timedOut: true });
    this.#pump();
  }

  #pump(): void {
    const now = Date.now();
    const suspect = (s: Slot) => {
      const oldest = s.inflight.values().next();
      return !oldest.done && now - oldest.value.sentAt > SUSPECT_MS;
    };
    while (this.#queue.length) {
      let best: Slot | null = null;
      for (const slot of this.#slots) {
        if (!slot.ready || slot.inflight.size >= PIPELINE) continue;
        if (!best || (suspect(best) && !suspect(slot)) || (suspect(best) === suspect(slot) && slot.inflight.size < best.inflight.size)) best = slot;
      }
      // Every worker full, or a slow one while another may answer soon: wait for an answer.
      if (!best || (suspect(best) && this.#slots.some((s) => s !== best && s.ready && !suspect(s)))) return;
      const call = this.#queue.shift()!;
      call.slot = best;
      call.sentAt = now;
      best.inflight.set(call.id, call);
      best.worker.postMessage({ id: call.id, hook: call.hook, payload: call.payload });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const c of this.#queue.splice(0)) {
      clearTimeout(c.timer);
      c.done({ ok: false, error: 'hooks are stopping', timedOut: false });
    }
    await Promise.all(this.#slots.map(async (s) => {
      s.worker.removeAllListeners('exit');
      for (const c of s.inflight.values()) {
        clearTimeout(c.timer);
        c.done({ ok: false, error: 'hooks are stopping', timedOut: false });
      }
      await s.worker.terminate();
    }));
  }
}

/** Every configured module, in order. */
export class HookHost {
  readonly modules: ModulePool[];
  readonly config: HooksConfig;

  private constructor(modules: ModulePool[], config: HooksConfig) {
    this.modules = modules;
    this.config = config;
  }

  static async start(config: HooksConfig, log?: Logger): Promise<HookHost | null> {
    if (!config.modules.length) return null;
    const modules: ModulePool[] = [];
    try {
      for (const file of config.modules) modules.push(await ModulePool.load(file, config, log));
    } catch (err) {
      await Promise.all(modules.map((m) => m.close()));
      throw err;
    }
    log?.info({ hooks: modules.map((m) => ({ module: m.file, hooks: [...m.hooks] })) }, 'extension hooks loaded');
    return new HookHost(modules, config);
  }

  /** The modules that implement a hook, in order. */
  with(hook: HookName): ModulePool[] {
    return this.modules.filter((m) => m.hooks.has(hook));
  }

  stats(): ModuleStats[] {
    return this.modules.map((m) => ({ ...m.stats }));
  }

  async close(): Promise<void> {
    await Promise.all(this.modules.map((m) => m.close()));
  }
}
