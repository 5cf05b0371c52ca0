import os from 'node:os';
import pkg from '../../package.json' with { type: 'json' };
import type { Executor } from '../store/store.ts';
import type { OpsDeps } from './context.ts';

export interface NodeView {
  nodeId: string;
  hostname: string;
  roles: string[];
  os: string;
  version: string;
  startedAt: string;
  lastSeenAt: string;
  /** up: heartbeat fresh; stale: missed several; stopped: shut down cleanly. */
  state: 'up' | 'stale' | 'stopped';
}

/** The running release, from package.json. */
export function fanoutVersion(): string {
  return (pkg as { version: string }).version;
}

/** Writes this node's heartbeat (insert or refresh). */
export async function heartbeat(deps: OpsDeps, roles: string[], startedAt: number, osText: string): Promise<void> {
  const now = deps.now();
  const row = { node_id: deps.nodeId, hostname: os.hostname(), roles: JSON.stringify(roles), os: osText, version: fanoutVersion(), started_at: startedAt, last_seen_at: now, stopped_at: null };
  await deps.store.db.insertInto('ops_nodes').values(row)
    .onConflict((oc) => oc.column('node_id').doUpdateSet({ hostname: row.hostname, roles: row.roles, os: row.os, version: row.version, started_at: row.started_at, last_seen_at: now, stopped_at: null }))
    .execute();
}

/** Marks the node stopped on a clean shutdown, so nobody waits for its heartbeat to go stale. */
export async function markStopped(deps: OpsDeps): Promise<void> {
  await deps.store.db.updateTable('ops_nodes').set({ stopped_at: deps.now() }).where('node_id', '=', deps.nodeId).execute();
}

/** Nodes seen in the last day, freshest first. */
export async function listNodes(db: Executor, now: number, staleAfterMs: number): Promise<NodeView[]> {
  const rows = await db.selectFrom('ops_nodes').selectAll().where('last_seen_at', '>=', now - 86_400_000).orderBy('last_seen_at', 'desc').execute();
  return rows.map((r) => ({
    nodeId: r.node_id, hostname: r.hostname, roles: JSON.parse(r.roles) as string[], os: r.os, version: r.version,
    startedAt: new Date(r.started_at).toISOString(), lastSeenAt: new Date(r.last_seen_at).toISOString(),
    state: r.stopped_at !== null ? 'stopped' : now - r.last_seen_at > staleAfterMs ? 'stale' : 'up',
  }));
}

export function staleAfterMs(deps: OpsDeps): number {
  return deps.config.operations.heartbeatSeconds * 1000 * deps.config.operations.thresholds.nodeStaleIntervals;
}
