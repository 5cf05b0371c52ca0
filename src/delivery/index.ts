import os from 'node:os';
import type { Logger } from 'pino';
import type { FanoutConfig } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import { DkimSigner } from './dkim/index.ts';
import { Egress } from './outbound/egress.ts';
import { RouteResolver } from './outbound/routing.ts';
import { ShapingTable } from './outbound/shaping.ts';
import { startSubmissionServer } from './submission/server.ts';
import type { SubmissionServer } from './submission/server.ts';
import { Sender } from './sender/sender.ts';
import type { SenderDeps } from './sender/sender.ts';
import { SigningKeys } from './sender/keys.ts';
import type { SuppressionCheck } from './queue/enqueue.ts';
import { classifySmtpReply } from '../bounces/index.ts';
import { suppressionCheck } from '../bounces/suppressions.ts';
import { verpReturnPath } from '../bounces/verp.ts';
import type { TlsPair } from './submission/tls.ts';
import { getPlatformSecret } from '../core/secrets.ts';

export { enqueueMessages } from './queue/enqueue.ts';
export type { EnqueueItem, EnqueueResult } from './queue/enqueue.ts';
export { queryDeliveryEvents, messageRecipients, queueDepth } from './queue/events.ts';
export type { DeliveryEvent, EventPage, EventQuery } from './queue/events.ts';
export { pauseBulk, resumeBulk, cancelBulk, cancelQueuedMessages, listPauses } from './queue/control.ts';
export { sentMessageByHeaderId, sentRecipient, sentRecipientOf } from './queue/sent.ts';

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
  /** Sender tuning (tests and the benchmark). */
  senderTuning?: { leaseMs?: number; pollMs?: number; batchSize?: number; maxInFlight?: { transactional: number; bulk: number }; maxInFlightBytes?: number };
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
  if (options.sender ?? true) {
    const shaping = new ShapingTable(d.shaping);
    egress = new Egress({
      heloName: d.heloName, connectTimeoutMs: d.egress.connectTimeoutMs, greetingTimeoutMs: d.egress.greetingTimeoutMs,
      socketTimeoutMs: d.egress.socketTimeoutMs, idleMs: d.egress.idleMs,
      limitsFor: (_site, hosts) => shaping.shapeFor(hosts.map((h) => h.host)).limits,
      throttle: { suspendMs: d.shaping.suspendMinutes * 60_000, maxSuspendMs: d.shaping.maxSuspendMinutes * 60_000 },
    });
    signer = new DkimSigner({ workers: d.dkim.workers });
    const resolver = new RouteResolver({
      staticRoutes: d.routes, mxCacheSeconds: d.dns.mxCacheSeconds, maxCacheSeconds: d.dns.maxCacheSeconds,
      negativeCacheSeconds: d.dns.negativeCacheSeconds, temporaryFailureCacheSeconds: d.dns.temporaryFailureCacheSeconds, timeoutMs: d.dns.timeoutMs,
    });
    const returnPath = options.returnPath ?? verpReturnPath(await getPlatformSecret(store));
    const classify = options.classify ?? ((r: { replyCode: number | null; status: string | null; text: string; command?: string }) => classifySmtpReply(r));
    sender = new Sender(store, { resolver, egress, signer, keys: new SigningKeys(store), returnPath, classify }, {
      nodeId: options.nodeId ?? process.env.FANOUT_NODE_ID ?? os.hostname(), retry: d.retry, sourceIp: d.egress.sourceIps[0], logger: log,
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
        onCommitted: sender ? () => sender?.wake() : undefined,
      });
    } catch (err) {
      await sender?.stop();
      await egress?.close();
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
        await signer?.close();
      })();
      return stopping;
    },
  };
}
