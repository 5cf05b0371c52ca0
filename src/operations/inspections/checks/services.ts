import net from 'node:net';
import { sql } from 'kysely';
import fs from 'node:fs';
import path from 'node:path';
import type { OpsDeps } from '../../context.ts';
import { listNodes, staleAfterMs } from '../../nodes.ts';
import type { CheckDefinition, CheckResult } from '../types.ts';
import { result } from '../types.ts';

function hostPort(text: string, fallbackPort: number): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(text.trim());
  return { host: m?.[1] ?? '127.0.0.1', port: m?.[2] ? Number(m[2]) : fallbackPort };
}

/** Connects and reads the SMTP greeting; answers with the latency to a 220. */
export function smtpGreeting(host: string, port: number, timeoutMs: number): Promise<{ ms: number; banner: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ host, port });
    let buf = '';
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no greeting within ${timeoutMs} ms`)));
    socket.on('error', fail);
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      const line = /^(\d{3})[ -](.*)\r?\n/m.exec(buf);
      if (!line) return;
      socket.end('QUIT\r\n');
      socket.destroy();
      if (line[1] !== '220') reject(new Error(`greeting was "${line[0].trim()}"`));
      else resolve({ ms: Math.round(performance.now() - started), banner: line[2]!.trim() });
    });
  });
}

async function smtpCheck(deps: OpsDeps, key: 'smtp' | 'bounce_listener', target: string, role: string, label: string): Promise<CheckResult> {
  const { host, port } = hostPort(target, 25);
  const warnMs = deps.config.operations.thresholds.serviceLatencyWarnMs;
  const nodes = (await listNodes(deps.store.db, deps.now(), staleAfterMs(deps))).filter((n) => n.state === 'up' && n.roles.includes(role));
  try {
    const g = await smtpGreeting(host, port, 5000);
    return result(key, 'services', g.ms > warnMs ? 'warning' : 'ok', `${label} at ${host}:${port} answers in ${g.ms} ms (${nodes.length} node(s) run it)`, { latencyMs: g.ms, banner: g.banner, endpoint: `${host}:${port}`, nodes: nodes.map((n) => n.nodeId) }, { latencyWarnMs: warnMs }, { numeric: g.ms });
  } catch (err) {
    return result(key, 'services', 'error', `${label} at ${host}:${port} does not answer: ${(err as Error).message}`, { endpoint: `${host}:${port}`, nodes: nodes.map((n) => n.nodeId) }, { latencyWarnMs: warnMs });
  }
}

const smtp: CheckDefinition = {
  key: 'smtp', light: true,
  run: ({ deps }) => smtpCheck(deps, 'smtp', deps.config.operations.endpoints.smtp ?? `127.0.0.1:${deps.config.smtp.port}`, 'smtp', 'SMTP submission'),
};

const bounceListener: CheckDefinition = {
  key: 'bounce_listener', light: true,
  run: ({ deps }) => smtpCheck(deps, 'bounce_listener', deps.config.operations.endpoints.bounce ?? `127.0.0.1:${deps.config.bounce.port}`, 'bounce', 'bounce listener'),
};

const http: CheckDefinition = {
  key: 'http', light: true,
  async run({ deps }) {
    const base = (deps.config.operations.endpoints.http ?? `http://127.0.0.1:${deps.config.http.port}`).replace(/\/$/, '');
    const warnMs = deps.config.operations.thresholds.serviceLatencyWarnMs;
    const started = performance.now();
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
      const ms = Math.round(performance.now() - started);
      if (!res.ok) return result('http', 'services', 'error', `web and API at ${base} answered ${res.status}`, { endpoint: base, status: res.status });
      return result('http', 'services', ms > warnMs ? 'warning' : 'ok', `web and API at ${base} answer in ${ms} ms`, { latencyMs: ms, endpoint: base }, { latencyWarnMs: warnMs }, { numeric: ms });
    } catch (err) {
      return result('http', 'services', 'error', `web and API at ${base} do not answer: ${(err as Error).message}`, { endpoint: base }, { latencyWarnMs: warnMs });
    }
  },
};

/** The sender runs wherever a node with the sender role keeps its heartbeat fresh. */
const sender: CheckDefinition = {
  key: 'sender', light: true,
  async run({ deps }) {
    const nodes = await listNodes(deps.store.db, deps.now(), staleAfterMs(deps));
    const senders = nodes.filter((n) => n.roles.includes('sender'));
    const up = senders.filter((n) => n.state === 'up');
    const value = { up: up.map((n) => n.nodeId), down: senders.filter((n) => n.state !== 'up').map((n) => `${n.nodeId} (${n.state}, last seen ${n.lastSeenAt})`) };
    if (!up.length) return result('sender', 'services', 'error', senders.length ? `no sender is running: ${value.down.join(', ')}` : 'no node runs the sender role', value, { staleAfterSeconds: staleAfterMs(deps) / 1000 }, { numeric: 0 });
    return result('sender', 'services', value.down.length ? 'warning' : 'ok', `${up.length} sender node(s) running${value.down.length ? `; down: ${value.down.join(', ')}` : ''}`, value, { staleAfterSeconds: staleAfterMs(deps) / 1000 }, { numeric: up.length });
  },
};

async function databaseSize(deps: OpsDeps): Promise<number | null> {
  if (deps.store.engine === 'postgres') {
    const r = await sql<{ size: number }>`select pg_database_size(current_database()) as size`.execute(deps.store.db);
    return Number(r.rows[0]?.size ?? 0);
  }
  const file = path.join(deps.config.dataDir, 'fanout.db');
  let size = 0;
  for (const f of [file, `${file}-wal`]) if (fs.existsSync(f)) size += fs.statSync(f).size;
  return size;
}

const database: CheckDefinition = {
  key: 'database', light: true,
  async run({ deps }) {
    const warnMs = deps.config.operations.thresholds.databaseLatencyWarnMs;
    const started = performance.now();
    try {
      await sql`select 1`.execute(deps.store.db);
      const ms = Math.round((performance.now() - started) * 10) / 10;
      const size = await databaseSize(deps);
      const mib = size === null ? null : Math.round((size / 2 ** 20) * 10) / 10;
      return result('database', 'storage', ms > warnMs ? 'warning' : 'ok', `${deps.store.engine} reachable in ${ms} ms; ${mib} MiB`, { engine: deps.store.engine, latencyMs: ms, sizeBytes: size }, { latencyWarnMs: warnMs }, { numeric: ms });
    } catch (err) {
      return result('database', 'storage', 'error', `${deps.store.engine} unreachable: ${(err as Error).message}`, { engine: deps.store.engine }, { latencyWarnMs: warnMs });
    }
  },
};

export const serviceChecks: CheckDefinition[] = [smtp, http, bounceListener, sender, database];
