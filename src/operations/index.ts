import type { FanoutConfig } from '../config/schema.ts';
import { registerInboundMailbox } from '../bounces/mailboxes.ts';
import type { Store } from '../store/store.ts';
import type { OpsDeps } from './context.ts';
import { opsTimezone, SYSTEM_ACTOR } from './context.ts';
import { osDescription } from './inspections/checks/system.ts';
import { runInspection } from './inspections/runner.ts';
import { heartbeat, markStopped } from './nodes.ts';
import { probeMailbox } from './probe/mailbox.ts';
import { runJobOnce } from '../cluster/index.ts';
import { lastDailySlot } from './schedule.ts';
import { sweepEscalations } from './tickets/escalation.ts';

export { operationsRoutes, operationsPublicRoutes } from './routes.ts';
export { registerOperationsCommands } from './cli.ts';
export { ticketEventsAfter, TICKET_EVENTS } from './tickets/events.ts';
export type { TicketEvent, TicketEventType } from './tickets/events.ts';
export { registerInstalledHooks } from './reports/environment.ts';

export interface OperationsComponent {
  name: string;
  stop(): Promise<void>;
  /** Runs one scheduler tick now (tests). */
  tick(): Promise<void>;
}

const TICK_MS = 15_000;

/**
 * The operations capability on a node: its heartbeat (nodes seen, roles running), the probe's
 * mailbox where the bounce listener runs, and the scheduler of full and light inspections and
 * SLA escalations, each run once per cluster under a lease in the store.
 */
export async function startOperations(store: Store, config: FanoutConfig, options: { nodeId: string; roles: string[]; log?: OpsDeps['log']; now?: () => number }): Promise<OperationsComponent> {
  const deps: OpsDeps = { store, config, nodeId: options.nodeId, now: options.now ?? Date.now, log: options.log };
  const startedAt = deps.now();
  const os = await osDescription().catch(() => `${process.platform} ${process.arch}`);
  await heartbeat(deps, options.roles, startedAt, os);
  const unregister = options.roles.includes('bounce') ? registerInboundMailbox(probeMailbox(deps)) : () => {};
  const s = config.operations.schedule;
  let running: Promise<void> | null = null;
  let stopped = false;

  const job = (name: string, leaseMs: number, isDue: (last: number) => boolean, run: () => Promise<unknown>) =>
    runJobOnce(store.db, options.nodeId, { name, leaseMs, isDue: (last) => isDue(last), run }, deps.now(), options.log);

  const tick = async () => {
    if (stopped) return;
    await heartbeat(deps, options.roles, startedAt, os).catch((err: unknown) => options.log?.warn({ err }, 'heartbeat failed'));
    if (!s.enabled) return;
    await job('escalations', 5 * 60_000, (last) => deps.now() - last >= s.escalationEverySeconds * 1000, () => sweepEscalations(deps));
    if (s.lightEveryMinutes > 0) {
      await job('inspection.light', 10 * 60_000, (last) => deps.now() - last >= s.lightEveryMinutes * 60_000, () => runInspection(deps, { kind: 'light', trigger: 'schedule', actor: SYSTEM_ACTOR }));
    }
    await job('inspection.full', 30 * 60_000, (last) => last < lastDailySlot(deps.now(), s.fullAt, opsTimezone(config)), () => runInspection(deps, { kind: 'full', trigger: 'schedule', actor: SYSTEM_ACTOR }));
  };

  const period = Math.min(TICK_MS, config.operations.heartbeatSeconds * 1000, s.escalationEverySeconds * 1000);
  const timer = setInterval(() => {
    if (running) return;
    // A tick never rejects (the store may be away during a restart or fail-over): an
    // unhandled rejection would end the process.
    running = tick().catch((err: unknown) => options.log?.warn({ err }, 'operations tick failed')).finally(() => {
      running = null;
    });
  }, period);
  timer.unref();
  return {
    name: 'operations',
    tick: async () => {
      await running;
      await tick();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      unregister();
      await markStopped(deps).catch(() => {});
    },
  };
}
