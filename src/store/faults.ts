/**
 * Store faults that callers answer differently from other failures: the storage is full
 * (SQLite's SQLITE_FULL, PostgreSQL's disk_full 53100) — SMTP says 452 4.3.1, not 451 4.3.0.
 */
export function isStorageFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === '53100';
}

interface FaultLogger {
  error(obj: object, msg: string): void;
}

/**
 * Logs a store fault once, then at most once a minute with how many more there were: a client
 * retrying against a full disk must not grow the log by gigabytes.
 */
export class FaultLog {
  readonly #everyMs: number;
  readonly #seen = new Map<string, { at: number; suppressed: number }>();

  constructor(everyMs = 60_000) {
    this.#everyMs = everyMs;
  }

  report(log: FaultLogger | undefined, err: unknown, msg: string, now = Date.now()): void {
    const e = err as { code?: unknown; message?: unknown } | null;
    const key = `${msg}\u0000${String(e?.code ?? '')}\u0000${String(e?.message ?? err)}`;
    const last = this.#seen.get(key);
    if (last && now - last.at < this.#everyMs) {
      last.suppressed++;
      return;
    }
    if (this.#seen.size > 100) this.#seen.clear();
    this.#seen.set(key, { at: now, suppressed: 0 });
    log?.error({ err, ...(last?.suppressed ? { sameErrorsSinceLastLog: last.suppressed } : {}), ...(isStorageFull(err) ? { storageFull: true } : {}) }, isStorageFull(err) ? `${msg}: the store's disk is full` : msg);
  }
}
