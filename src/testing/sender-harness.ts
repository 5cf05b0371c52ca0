import type { Store } from '../store/store.ts';
import type { SmtpSink } from './smtp-sink.ts';
import { DkimSigner } from '../delivery/index.ts';
import { Egress } from '../delivery/index.ts';
import { RouteResolver } from '../delivery/index.ts';
import type { RetryPolicy } from '../delivery/index.ts';
import type { SiteLimits } from '../delivery/index.ts';
import { Sender } from '../delivery/index.ts';
import type { SenderDeps } from '../delivery/index.ts';
import { SigningKeys } from '../delivery/index.ts';

export interface Harness {
  sender: Sender;
  egress: Egress;
  stop(): Promise<void>;
}

/** A sender with the real outbound parts, routed to a loopback sink (tests). */
export async function startTestSender(store: Store, sinkPort: number, options: {
  nodeId?: string; now?: () => number; retry?: RetryPolicy; limits?: SiteLimits; leaseMs?: number; classify?: SenderDeps['classify'];
  maxInFlight?: { transactional: number; bulk: number }; maxInFlightBytes?: number; batchSize?: number; returnPath?: SenderDeps['returnPath'];
  /** Back-off settings; by default the site is never suspended so tests stay independent. */
  throttle?: { suspendMs?: number; maxSuspendMs?: number; suspendAfter?: number; minPerMinute?: number };
} = {}): Promise<Harness> {
  const limits = options.limits ?? { maxConnections: 4, messagesPerConnection: 100, messagesPerMinute: 0 };
  const egress = new Egress({
    heloName: 'sender.fanout.test', connectTimeoutMs: 2000, greetingTimeoutMs: 2000, socketTimeoutMs: 3000, idleMs: 300,
    limitsFor: () => limits,
    // Slowing is tested with the outbound half; here a throttle reply must not rate-limit the next test step.
    throttle: { suspendAfter: 1_000_000, minPerMinute: 1_000_000, ...options.throttle },
  });
  const signer = new DkimSigner({ workers: 0 });
  const resolver = new RouteResolver({ staticRoutes: { '*': `127.0.0.1:${sinkPort}` } });
  const sender = new Sender(store, { resolver, egress, signer, keys: new SigningKeys(store), classify: options.classify, returnPath: options.returnPath }, {
    nodeId: options.nodeId ?? 'test-node', retry: options.retry ?? { initialMinutes: 5, factor: 2, maxIntervalMinutes: 240, maxAgeHours: 120 },
    now: options.now, pollMs: 30, leaseMs: options.leaseMs ?? 60_000, maxInFlight: options.maxInFlight, maxInFlightBytes: options.maxInFlightBytes, batchSize: options.batchSize,
  });
  await sender.start();
  return {
    sender,
    egress,
    async stop() {
      await sender.stop(5000);
      await egress.close();
      await signer.close();
    },
  };
}

export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Between tests that share a store and a sink: stops the sender, empties the queue, lifts pauses, resets the sink. */
export async function resetBetweenTests(store: Store, sink: SmtpSink, h: Harness | null): Promise<void> {
  await h?.stop();
  await store.db.updateTable('delivery_recipients').set({ state: 'cancelled' }).where('state', '=', 'queued').execute();
  await store.db.deleteFrom('delivery_pauses').execute();
  sink.reset();
  sink.rules.clear();
}
