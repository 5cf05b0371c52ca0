import nodemailer from 'nodemailer';
import type { FanoutConfig } from '../config/schema.ts';
import { startDelivery } from '../delivery/index.ts';
import type { Delivery, DeliveryStartOptions } from '../delivery/index.ts';
import { makeSender } from '../delivery/queue/fixtures.ts';
import type { SenderFixture } from '../delivery/queue/fixtures.ts';
import type { Store } from '../store/store.ts';
import { testConfig } from './http.ts';
import { SmtpSink } from './smtp-sink.ts';

/**
 * Real submission and real delivery on loopback for tests that follow one message from a
 * business system's SMTP client to the receiving server: the submission server, the sender
 * (DKIM-signing) and a sink every destination routes to.
 */
export interface MailRig {
  sink: SmtpSink;
  delivery: Delivery;
  config: FanoutConfig;
  fixture: SenderFixture;
  /** Submits one message over SMTP with the account's credentials; resolves with the server's reply text. */
  submit(message: { from?: string; to: string | string[]; subject: string; text?: string; html?: string; headers?: Record<string, string>; messageId?: string }): Promise<string>;
  stop(): Promise<void>;
}

export async function startMailRig(store: Store, dataDir: string, options: { name: string; domain: string; config?: Record<string, unknown>; delivery?: DeliveryStartOptions; routes?: Record<string, string> } ): Promise<MailRig> {
  const sink = await SmtpSink.start({ starttls: false });
  const config = testConfig(dataDir, {
    ...options.config,
    smtp: { host: '127.0.0.1', port: 0, greetingDelayMs: 0, authFailureDelayMs: 0 },
    delivery: { routes: { ...options.routes, '*': `127.0.0.1:${sink.port}` } },
  });
  const fixture = await makeSender(store, { name: options.name, domain: options.domain });
  const delivery = await startDelivery(store, config, { senderTuning: { pollMs: 20 }, ...options.delivery });
  const port = delivery.submission!.port;
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, auth: { user: fixture.account.name, pass: fixture.password } });
  return {
    sink, delivery, config, fixture,
    async submit(m) {
      const info = await transport.sendMail({ from: m.from ?? `notice@${options.domain}`, to: m.to, subject: m.subject, text: m.text, html: m.html, headers: m.headers, messageId: m.messageId });
      return info.response;
    },
    async stop() {
      transport.close();
      await delivery.stop();
      await sink.close();
    },
  };
}
