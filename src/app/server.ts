import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { FanoutConfig } from '../config/schema.ts';
import { setQuotaTimezone } from '../accounts/index.ts';
import { getPlatformSecret } from '../store/platform-secret.ts';
import { buildHttpApp } from '../http/app.ts';
import { apiRoutes, httpDeps, migrations, publicRoutes } from './capabilities.ts';
import { Store } from '../store/store.ts';
import { bootstrapAdministrator } from '../users/index.ts';
import { classifySmtpReply } from '../bounces/index.ts';
import { startBounceListener } from '../bounces/index.ts';
import { verpReturnPath } from '../bounces/index.ts';
import { CampaignRunner } from '../campaigns/index.ts';
import { startDelivery } from '../delivery/index.ts';
import { submissionCertificate } from '../delivery/index.ts';
import { queuedMailFromDomain } from '../delivery/index.ts';
import { registerDomainUsageCheck } from '../domains/index.ts';
import { secureDataDir } from './data-dir.ts';
import { startOperations } from '../operations/index.ts';
import { startArchive } from '../archive/index.ts';
import { startRetention } from '../retention/index.ts';
import { classifyOverride, routeChooser, startHooks, submissionInspector } from '../hooks/index.ts';
import { startAnalytics } from '../analytics/index.ts';
import { startWebhooks } from '../webhooks/index.ts';
import { createLogger } from './logger.ts';
import type { Logger } from './logger.ts';

export type Role = FanoutConfig['roles'][number];

/** A running part of the server, stopped in reverse start order. */
export interface Component {
  name: string;
  stop(): Promise<void>;
}

export interface RunningServer {
  store: Store;
  http: FastifyInstance | null;
  components: Component[];
  stop(): Promise<void>;
}

/**
 * The composition root. Start-up order: store (migrated) → platform secret → first
 * administrator → delivery (sender, then SMTP submission) → campaign runner → bounce listener
 * → HTTP. Shutdown runs the other way: stop taking new work first, then let the sender finish
 * or return what is in flight, then close the store.
 */
export interface StartOptions {
  /** Where the first administrator's one-time password goes: the console (stdout), never the logs. */
  announce?: (text: string) => void;
}

export async function startServer(config: FanoutConfig, logger: Logger = createLogger(config), options: StartOptions = {}): Promise<RunningServer> {
  setQuotaTimezone(config.timezone);
  secureDataDir(config.dataDir);
  const store = Store.open({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, secretKey: config.security.encryptionKey, secretKeyFile: config.security.encryptionKeyFile });
  const applied = await store.migrate(migrations);
  if (applied.length) logger.info({ applied }, 'store migrated');
  const secret = await getPlatformSecret(store);

  const admin = await bootstrapAdministrator(store, { operator: 'system', clientIp: 'local', role: 'system' });
  if (admin) {
    // Printed once, on the console only: it is not in the logs. It must be changed at first sign-in.
    const announce = options.announce ?? ((text: string) => process.stdout.write(text));
    announce(`\nFirst start: administrator "${admin.username}" created with the one-time password\n\n    ${admin.password}\n\nSign in and change it: until then the session can do nothing else.\n\n`);
  }

  const components: Component[] = [];
  const unregister = registerDomainUsageCheck(queuedMailFromDomain);
  components.push({ name: 'domain usage check', stop: async () => unregister() });
  const roles = new Set(config.roles);
  let http: FastifyInstance | null = null;
  const nodeId = process.env.FANOUT_NODE_ID ?? os.hostname();
  components.push(await startOperations(store, config, { nodeId, roles: [...roles], log: logger }));
  const archive = config.archive.enabled ? startArchive(store, config, { nodeId, log: logger }) : null;
  if (archive) components.push(archive);
  components.push(startRetention(store, config, { nodeId, log: logger }));
  const hooks = await startHooks(config.hooks, logger).catch(async (err: unknown) => {
    for (const c of components.reverse()) await c.stop().catch(() => {});
    await store.close();
    throw err;
  });
  if (hooks) components.push({ name: 'hooks', stop: () => hooks.close() });
  components.push(startAnalytics(store, config, { nodeId, log: logger }));
  if (config.webhooks.dispatch) components.push(startWebhooks(store, config, { nodeId, log: logger }));
  try {
    // One certificate for the submission's STARTTLS and the bounce listener's: configured, or
    // the self-signed pair kept in the data folder.
    const tls = roles.has('smtp') || roles.has('bounce')
      ? await submissionCertificate({ dataDir: config.dataDir, hostname: config.smtp.hostname, certFile: config.smtp.tlsCertFile, keyFile: config.smtp.tlsKeyFile })
      : undefined;
    if (roles.has('sender') || roles.has('smtp')) {
      const delivery = await startDelivery(store, config, {
        logger, nodeId, tls, sender: roles.has('sender'), submission: roles.has('smtp'),
        returnPath: verpReturnPath(secret),
        classify: (reply) => classifySmtpReply(reply),
        signed: archive ? (message, wire) => archive.capture.signed(message.id, message.body, wire) : undefined,
        inspect: hooks ? submissionInspector(hooks) : undefined,
        chooseRoute: hooks ? routeChooser(hooks) : undefined,
        reclassify: hooks ? classifyOverride(hooks) : undefined,
      });
      components.push({ name: 'delivery', stop: () => delivery.stop() });
      if (delivery.submission) logger.info({ port: delivery.submission.port }, 'SMTP submission listening');
    }
    if (roles.has('sender')) {
      const runner = new CampaignRunner(store, { nodeId, publicUrl: config.http.publicUrl, renderLimits: config.templates, requestMessageBytes: config.templates.requestMessageBytes, logger });
      runner.start();
      components.push({ name: 'campaigns', stop: () => runner.stop() });
    }
    if (roles.has('bounce')) {
      const bounce = await startBounceListener(store, {
        tls, host: config.bounce.host, port: config.bounce.port, maxMessageBytes: config.bounce.maxMessageBytes, greetingDelayMs: config.bounce.greetingDelayMs, hostname: config.smtp.hostname, secret,
        softBounces: { threshold: config.bounce.softBounceThreshold, windowDays: config.bounce.softBounceWindowDays }, log: logger,
      });
      components.push({ name: 'bounce listener', stop: () => bounce.close() });
    }
    if (roles.has('http')) {
      http = await buildHttpApp({ ...httpDeps(store, config, logger), inspect: hooks ? submissionInspector(hooks) : undefined }, apiRoutes, {}, publicRoutes);
      await http.listen({ host: config.http.host, port: config.http.port });
      const app = http;
      components.push({ name: 'http', stop: () => app.close() });
      logger.info({ port: (app.server.address() as { port: number }).port }, 'HTTP API listening');
    }
  } catch (err) {
    for (const c of components.reverse()) await c.stop().catch(() => {});
    await store.close();
    throw err;
  }

  let stopping: Promise<void> | null = null;
  return {
    store,
    http,
    components,
    stop() {
      stopping ??= (async () => {
        for (const c of [...components].reverse()) {
          try {
            await c.stop();
          } catch (err) {
            logger.error({ err, component: c.name }, 'error while stopping');
          }
        }
        await store.close();
      })();
      return stopping;
    },
  };
}

/** `fanout serve`: starts everything and stops cleanly on SIGTERM / SIGINT. */
export async function runServer(config: FanoutConfig): Promise<void> {
  const logger = createLogger(config);
  const server = await startServer(config, logger);
  logger.info({ dataDir: config.dataDir, engine: server.store.engine, roles: config.roles }, 'Fanout started');
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      // The stop is bounded (delivery.stopSeconds, then the store): past the bound and a
      // margin the process exits anyway, before the service manager's TimeoutStopSec kills it.
      const bound = setTimeout(() => {
        logger.error({ boundSeconds: config.delivery.stopSeconds + 8 }, 'stop took too long: exiting now');
        process.exit(1);
      }, (config.delivery.stopSeconds + 8) * 1000);
      bound.unref();
      server.stop().then(resolve, resolve).finally(() => clearTimeout(bound));
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  logger.info('stopped');
}
