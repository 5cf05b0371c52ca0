// A Fanout delivery node on its own (SMTP submission + sender) for the crash-safety test and
// the benchmark, until `fanout serve` starts the delivery capability. Configuration comes
// from the environment like `fanout serve` (FANOUT_DATA_DIR, FANOUT_DATABASE_URL,
// FANOUT_SMTP_PORT, FANOUT_ROUTES, FANOUT_NODE_ID). Prints one JSON line when ready.
import { loadConfig } from '../config/load.ts';
import { getPlatformSecret } from '../core/secrets.ts';
import { startDelivery } from '../delivery/index.ts';
import { Store } from '../store/store.ts';
import { createLogger } from '../app/logger.ts';

const config = loadConfig({ file: null });
const logger = createLogger({ logLevel: process.env.FANOUT_LOG_LEVEL ? config.logLevel : 'warn' });
const store = Store.open({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
await store.migrate();
await getPlatformSecret(store);
// FANOUT_ROLES picks the parts (smtp, sender) as it does for `fanout serve`.
const delivery = await startDelivery(store, config, {
  logger, submission: config.roles.includes('smtp'), sender: config.roles.includes('sender'),
  senderTuning: process.env.FANOUT_SENDER_POLL_MS ? { pollMs: Number(process.env.FANOUT_SENDER_POLL_MS) } : undefined,
});
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, smtpPort: delivery.submission?.port ?? null })}\n`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    await delivery.stop();
    await store.close();
    const usage = process.resourceUsage();
    process.stdout.write(`${JSON.stringify({ stopped: true, peakRssBytes: usage.maxRSS * 1024, cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000) })}\n`);
    process.exit(0);
  })();
});
