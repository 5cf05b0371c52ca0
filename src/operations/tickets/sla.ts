import type { SlaCalendar } from './calendar.ts';

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const STATUSES = ['open', 'acknowledged', 'in_progress', 'waiting_customer', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof STATUSES)[number];

/** Statuses in which the resolution clock runs; waiting for the customer pauses it; resolved and closed stop it. */
const RUNNING = new Set<string>(['open', 'acknowledged', 'in_progress']);
const PAUSED = new Set<string>(['waiting_customer']);

export interface SlaTargets {
  responseMs: number;
  resolutionMs: number;
}

/** One status change of the timeline (creation is `to: open` at the creation time). */
export interface StatusChange {
  at: number;
  to: string;
}

export interface ClockState {
  targetMs: number;
  /** Counted time the clock has run (calendar time, pauses excluded). */
  elapsedMs: number;
  /** Counted time spent waiting for the customer. */
  pausedMs: number;
  /** running | paused | stopped */
  state: 'running' | 'paused' | 'stopped';
  /** When the target is (or was, or would be, from the current position) reached. */
  dueAt: number;
  /** When the clock stopped for good (acknowledged / resolved), null while it runs. */
  metAt: number | null;
  percent: number;
  breached: boolean;
  /** Instants at which each escalation percent was crossed, where it was. */
  crossed: Record<number, number>;
}

export interface SlaState {
  response: ClockState;
  resolution: ClockState;
}

/**
 * Walks the status changes and measures one clock. `runs(status)` says whether the clock
 * counts in a status, `pauses(status)` whether it is paused (not stopped), and `stopsAt` when it
 * stopped for good (null while it can still run).
 */
function measure(changes: StatusChange[], now: number, cal: SlaCalendar, targetMs: number, runs: (s: string) => boolean, pauses: (s: string) => boolean, stopsAt: number | null, escalationPercents: number[]): ClockState {
  const percents = [...new Set([...escalationPercents, 100])];
  let elapsed = 0;
  let paused = 0;
  const crossed: Record<number, number> = {};
  const end = stopsAt ?? now;
  let lastStatus = 'open';
  for (let i = 0; i < changes.length; i++) {
    const from = changes[i]!.at;
    const to = Math.min(i + 1 < changes.length ? changes[i + 1]!.at : end, end);
    const status = changes[i]!.to;
    if (from >= end) break;
    lastStatus = status;
    const len = cal.countedMs(from, to);
    if (runs(status)) {
      for (const p of percents) {
        const mark = (targetMs * p) / 100;
        if (crossed[p] === undefined && elapsed < mark && elapsed + len >= mark) crossed[p] = cal.addCounted(from, mark - elapsed);
      }
      elapsed += len;
    } else if (pauses(status)) {
      paused += len;
    }
  }
  const state: ClockState['state'] = stopsAt !== null ? 'stopped' : runs(lastStatus) ? 'running' : pauses(lastStatus) ? 'paused' : 'stopped';
  const dueAt = elapsed >= targetMs ? crossed[100]! : cal.addCounted(state === 'stopped' ? end : now, targetMs - elapsed);
  return { targetMs, elapsedMs: elapsed, pausedMs: paused, state, dueAt, metAt: stopsAt, percent: targetMs ? Math.floor((elapsed / targetMs) * 1000) / 10 : 100, breached: elapsed >= targetMs, crossed };
}

/**
 * A ticket's two clocks, derived from its timeline alone (never stored, so they cannot drift):
 * response runs from creation until the ticket is first acknowledged (or worked on, or resolved);
 * resolution runs while the ticket is open, acknowledged or in progress, pauses while waiting for
 * the customer, stops when resolved or closed and runs again after a reopen.
 */
export function computeSla(changes: StatusChange[], acknowledgedAt: number | null, now: number, cal: SlaCalendar, targets: SlaTargets, percents: number[]): SlaState {
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  const response = measure(sorted, now, cal, targets.responseMs, (s) => s !== 'waiting_customer', (s) => s === 'waiting_customer', acknowledgedAt, percents);
  const last = sorted[sorted.length - 1]!;
  const stopped = last.to === 'resolved' || last.to === 'closed';
  // The clock stopped where the trailing run of resolved/closed began.
  let resolvedAt: number | null = null;
  for (let i = sorted.length - 1; stopped && i >= 0 && (sorted[i]!.to === 'resolved' || sorted[i]!.to === 'closed'); i--) resolvedAt = sorted[i]!.at;
  const resolution = measure(sorted, now, cal, targets.resolutionMs, (s) => RUNNING.has(s), (s) => PAUSED.has(s), stopped ? resolvedAt : null, percents);
  return { response, resolution };
}

/** Which status changes a person may make; reopen goes back to open from resolved or closed. */
export const TRANSITIONS: Record<TicketStatus, TicketStatus[]> = {
  open: ['acknowledged', 'in_progress', 'resolved'],
  acknowledged: ['in_progress', 'waiting_customer', 'resolved'],
  in_progress: ['waiting_customer', 'resolved'],
  waiting_customer: ['in_progress', 'resolved'],
  resolved: ['closed', 'open'],
  closed: ['open'],
};
