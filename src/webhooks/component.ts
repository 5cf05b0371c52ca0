import type { Logger } from 'pino';
import type { FanoutConfig } from '../config/schema.ts';
import { runJobOnce } from '../cluster/index.ts';
import type { Store } from '../store/store.ts';
import { dispatchRound } from './dispatcher.ts';
import { NetworkPolicy } from './network.ts';

const TICK_MS = 200;
/** A node holds the dispatch lease for at most this long before letting others claim it. */
const HOLD_MS = 10_000;

/**
 * The webhook dispatcher on a node. Every node ticks; one node of the cluster dispatches at a
 * time (a lease in the store), so an endpoint sees one sender and retries keep their order.
 */
export function startWebhooks(store: Store, config: FanoutConfig, options: { nodeId: string; log?: Logger }): { name: string; stop(): Promise<void>; drain(): Promise<void> } {
  const policy = new NetworkPolicy(config.webhooks.allowedNetworks);
  const o = { policy, timeoutMs: config.webhooks.timeoutMs, concurrency: config.webhooks.concurrency, log: options.log };
  let running: Promise<unknown> | null = null;
  let stopped = false;
  const tick = () => runJobOnce(store.db, options.nodeId, {
    name: 'webhooks.dispatch', leaseMs: HOLD_MS + config.webhooks.timeoutMs + 30_000, isDue: () => true,
    run: async () => {
      const until = Date.now() + HOLD_MS;
      while (!stopped && Date.now() < until && (await dispatchRound(store, o)) > 0);
    },
  }, Date.now(), options.log);
  const timer = setInterval(() => {
    running ??= tick().finally(() => {
      running = null;
    });
  }, TICK_MS);
  timer.unref();
  return {
    name: 'webhooks',
    /** Runs rounds until nothing is due (tests). */
    async drain() {
      await running;
      while ((await dispatchRound(store, o)) > 0);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
