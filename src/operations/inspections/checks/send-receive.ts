import nodemailer from 'nodemailer';
import { randomBytes } from 'node:crypto';
import { findSendingDomain } from '../../../domains/index.ts';
import { PROBE_PREFIX } from '../../probe/mailbox.ts';
import type { CheckDefinition } from '../types.ts';
import { result } from '../types.ts';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const newToken = () => [...randomBytes(20)].map((b) => ALPHABET[b & 31]).join('');

/**
 * The end-to-end probe: a message submitted to Fanout's own SMTP port like a business system
 * would, queued, DKIM-signed and delivered by the sender to the probe address on the domain's
 * return-path domain, whose mail (MX or a static route) reaches the bounce listener, which
 * records the arrival. The latency is submission to arrival.
 */
const sendReceive: CheckDefinition = {
  key: 'send_receive', light: false,
  async run({ deps }) {
    const cfg = deps.config.operations.probe;
    const t = deps.config.operations.thresholds;
    const threshold = { warnSeconds: t.sendReceiveWarnSeconds, timeoutSeconds: cfg.timeoutSeconds };
    if (!cfg.from) return result('send_receive', 'fanout', 'unavailable', 'no probe configured (operations.probe.from: an address of a sending domain whose account may submit from this host)', null, threshold);
    const at = cfg.from.lastIndexOf('@');
    const domain = await findSendingDomain(deps.store.db, cfg.from.slice(at + 1).toLowerCase());
    if (at < 1 || !domain) return result('send_receive', 'fanout', 'error', `operations.probe.from ${cfg.from} is not on a sending domain`, null, threshold);
    const token = newToken();
    const to = `${PROBE_PREFIX}${token}@${domain.returnPathDomain}`;
    const sentAt = deps.now();
    await deps.store.db.insertInto('ops_probes').values({ token, sent_at: sentAt, received_at: null, node_id: deps.nodeId, dkim: null, detail: null }).execute();
    const password = cfg.password ?? process.env.FANOUT_PROBE_PASSWORD ?? null;
    const transport = nodemailer.createTransport({
      host: cfg.smtpHost, port: cfg.smtpPort ?? deps.config.smtp.port, secure: false,
      // The probe tests the mail path; the certificate has its own check (tls_certificate).
      tls: { rejectUnauthorized: false }, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000,
      ...(cfg.username && password ? { auth: { user: cfg.username, pass: password } } : {}),
    });
    let queuedAs: string;
    try {
      const info = await transport.sendMail({ from: cfg.from, to, subject: `Fanout send/receive probe ${token}`, text: `Probe ${token} sent at ${new Date(sentAt).toISOString()}.\n` });
      queuedAs = info.response;
    } catch (err) {
      return result('send_receive', 'fanout', 'error', `SMTP submission refused the probe: ${(err as Error).message}`, { to, stage: 'submission' }, threshold);
    } finally {
      transport.close();
    }
    const deadline = Date.now() + cfg.timeoutSeconds * 1000;
    for (;;) {
      const row = await deps.store.db.selectFrom('ops_probes').selectAll().where('token', '=', token).executeTakeFirstOrThrow();
      if (row.received_at !== null) {
        const seconds = Math.round((row.received_at - sentAt) / 100) / 10;
        const value = { latencySeconds: seconds, to, dkim: row.dkim, dkimDetail: row.detail, queuedAs };
        if (row.dkim !== 'pass') return result('send_receive', 'fanout', 'warning', `the probe came back in ${seconds} s but its DKIM signature did not verify (${row.dkim}${row.detail ? `: ${row.detail}` : ''})`, value, threshold, { numeric: seconds });
        return result('send_receive', 'fanout', seconds > t.sendReceiveWarnSeconds ? 'warning' : 'ok', `submitted, queued, DKIM-signed, delivered and received back in ${seconds} s`, value, threshold, { numeric: seconds });
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    return result('send_receive', 'fanout', 'error', `the probe was accepted by SMTP submission (${queuedAs}) but did not come back within ${cfg.timeoutSeconds} s: the sender, routing or the bounce listener is not working`, { to, stage: 'delivery', queuedAs }, threshold);
  },
};

export const sendReceiveChecks: CheckDefinition[] = [sendReceive];
