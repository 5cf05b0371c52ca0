import os from 'node:os';
import type { Logger } from 'pino';
import type { FanoutConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import { DkimSigner } from './dkim/index.ts';
import { Egress } from './outbound/egress.ts';
import { RouteResolver } from './outbound/routing.ts';
import { ShapingTable } from './outbound/shaping.ts';
import { startSubmissionServer } from './submission/server.ts';
import type { SubmissionInspect, SubmissionServer } from './submission/server.ts';
import { Sender } from './sender/sender.ts';
import type { SenderDeps } from './sender/sender.ts';
import { SigningKeys } from './sender/keys.ts';
import type { SuppressionCheck } from './queue/enqueue.ts';
import { classifySmtpReply } from '../bounces/index.ts';
import { suppressionCheck } from '../bounces/suppressions.ts';
import { verpReturnPath } from '../bounces/verp.ts';
import type { TlsPair } from './submission/tls.ts';
import { getPlatformSecret } from '../core/secrets.ts';
import { SharedLimits } from '../cluster/index.ts';

export { enqueueMessages } from './queue/enqueue.ts';
export type { EnqueueItem, EnqueueResult } from './queue/enqueue.ts';
export type { SubmissionInspect } from './submission/server.ts';
export { queryDeliveryEvents, messageRecipients, queueDepth } from './queue/events.ts';
export type { DeliveryEvent, EventPage, EventQuery } from './queue/events.ts';
export { pauseBulk, resumeBulk, cancelBulk, cancelQueuedMessages, listPauses } from './queue/control.ts';
export { sentMessageByHeaderId, sentRecipient, sentRecipientOf } from './queue/sent.ts';
export { loadBodies } from './queue/bodies.ts';

export interface DeliveryStartOptions {
  logger?: Logger;
  /** Which parts to run here; default both. */
  submission?: boolean;
  sender?: boolean;
  /** Lease owner name of this sender node; FANOUT_NODE_ID, else the host name. Unique per node. */
  nodeId?: string;
  /** The submission certificate, when the caller has loaded it already. */
  tls?: TlsPair;
  /** Allow AUTH without TLS: default only from loopback clients. */
  allowInsecureAuth?: boolean | 'loopback';
  /** Suppression look-up; the bounce capability's list by default, null for none. */
  suppression?: SuppressionCheck | null;
  /** VERP return path and reply classifier; the bounce capability's by default. */
  returnPath?: SenderDeps['returnPath'];
  classify?: SenderDeps['classify'];
  /** Told of every message as signed for the wire (the archive's capture). */
  signed?: SenderDeps['signed'];
  /** Extension hooks: before queueing, routing, classification. */
  inspect?: SubmissionInspect;
  chooseRoute?: SenderDeps['chooseRoute'];
  reclassify?: SenderDeps['reclassify'];
  /** Sender tuning (tests and the benchmark). */
  senderTuning?: { leaseMs?: number; stopMs?: number; pollMs?: number; batchSize?: number; maxInFlight?: { transactional: number; bulk: number }; maxInFlightBytes?: number };
}

export interface Delivery {
  submission: SubmissionServer | null;
  sender: Sender | null;
  /** SIGTERM path: stop taking mail, finish or return in-flight deliveries, close sessions. */
  stop(): Promise<void>;
}

/**
 * The delivery capability's entry for the composition root: the SMTP submission server and
 * the sender loop over the shared queue. The store stays open; the caller closes it after stop().
 */
export async function startDelivery(store: Store, config: FanoutConfig, options: DeliveryStartOptions = {}): Promise<Delivery> {
  const log = options.logger;
  const d = config.delivery;
  let sender: Sender | null = null;
  let egress: Egress | null = null;
  let signer: DkimSigner | null = null;
  let shared: SharedLimits | null = null;
  const nodeId = options.nodeId ?? process.env.FANOUT_NODE_ID ?? os.hostname();
  if (options.sender ?? true) {
    const shaping = new ShapingTable(d.shaping);
    // Several nodes share one PostgreSQL: per-site limits hold for all of them together.
    if (store.engine === 'postgres' && d.shaping.clusterWide) shared = new SharedLimits(store, { nodeId, leaseMs: d.leaseSeconds * 1000, log });
    egress = new Egress({
      heloName: d.heloName, connectTimeoutMs: d.egress.connectTimeoutMs, greetingTimeoutMs: d.egress.greetingTimeoutMs,
      socketTimeoutMs: d.egress.socketTimeoutMs, idleMs: d.egress.idleMs,
      limitsFor: (_site, hosts) => shaping.shapeFor(hosts.map((h) => h.host)).limits,
      throttle: { suspendMs: d.shaping.suspendMinutes * 60_000, maxSuspendMs: d.shaping.maxSuspendMinutes * 60_000 },
      shared: shared ?? undefined,
    });
    signer = new DkimSigner({ workers: d.dkim.workers });
    const resolver = new RouteResolver({
      staticRoutes: d.routes, mxCacheSeconds: d.dns.mxCacheSeconds, maxCacheSeconds: d.dns.maxCacheSeconds,
      negativeCacheSeconds: d.dns.negativeCacheSeconds, temporaryFailureCacheSeconds: d.dns.temporaryFailureCacheSeconds, timeoutMs: d.dns.timeoutMs,
    });
    const returnPath = options.returnPath ?? verpReturnPath(await getPlatformSecret(store));
    const classify = options.classify ?? ((r: { replyCode: number | null; status: string | null; text: string; command?: string }) => classifySmtpReply(r));
    sender = new Sender(store, { resolver, egress, signer, keys: new SigningKeys(store), returnPath, classify, signed: options.signed, chooseRoute: options.chooseRoute, reclassify: options.reclassify }, {
      nodeId, retry: d.retry, sourceIp: d.egress.sourceIps[0], logger: log,
      leaseMs: d.leaseSeconds * 1000, stopMs: d.stopSeconds * 1000,
      ...options.senderTuning,
    });
    await sender.start();
  }
  let submission: SubmissionServer | null = null;
  if (options.submission ?? true) {
    try {
      const s = config.smtp;
      submission = await startSubmissionServer(store, {
        ...s, dataDir: config.dataDir, tls: options.tls, allowInsecureAuth: options.allowInsecureAuth,
        suppression: options.suppression === undefined ? suppressionCheck : options.suppression, logger: log,
        onCommitted: sender ? () => sender?.wake() : undefined, inspect: options.inspect,
      });
    } catch (err) {
      await sender?.stop();
      await egress?.close();
      await shared?.stop();
      await signer?.close();
      throw err;
    }
  }
  let stopping: Promise<void> | null = null;
  return {
    submission,
    sender,
    stop() {
      stopping ??= (async () => {
        await submission?.close();
        await sender?.stop();
        await egress?.close();
        await shared?.stop();
        await signer?.close();
      })();
      return stopping;
    },
  };
}
