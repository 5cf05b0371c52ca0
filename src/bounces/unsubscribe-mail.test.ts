import assert from 'node:assert/strict';
import { test } from 'node:test';
import nodemailer from 'nodemailer';
import type { Actor } from '../audit/log.ts';
import { getPlatformSecret } from '../store/platform-secret.ts';
import { createDomain } from '../domains/service.ts';
import { createList } from '../subscribers/lists.ts';
import { isSubscribed, subscribe } from '../subscribers/subscribers.ts';
import { createTenant } from '../tenants/service.ts';
import { describeEachEngine } from '../testing/stores.ts';
import { unsubscribeTargets } from '../tracking/links-signed.ts';
import { startBounceListener } from './listener.ts';
import type { InboundResult } from './inbound.ts';

const admin: Actor = { operator: 'admin', clientIp: '127.0.0.1', role: 'administrator' };

describeEachEngine('mailto unsubscribe at the bounce listener', (get) => {
  test('the List-Unsubscribe mailto, sent as a mail program would, unsubscribes; forged or foreign tokens change nothing', async () => {
    const { store } = get();
    const secret = await getPlatformSecret(store);
    const tenant = await createTenant(store, admin, { name: 'Mailto Bank' });
    const other = await createTenant(store, admin, { name: 'Other Bank' });
    const domain = await createDomain(store, admin, { tenantId: tenant.id, domain: 'mailto-bank.example' });
    await createDomain(store, admin, { tenantId: other.id, domain: 'other-bank.example' });
    const list = await createList(store, { ...admin, tenantId: tenant.id }, { tenantId: tenant.id, name: 'News' });
    for (const email of ['keep@client.example', 'leave@client.example']) await subscribe(store, { ...admin, tenantId: tenant.id }, { tenantId: tenant.id, listId: list.id, email });
    const results: InboundResult[] = [];
    const listener = await startBounceListener(store, { host: '127.0.0.1', port: 0, secret, onProcessed: (r) => results.push(r) });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, secure: false, ignoreTLS: true });
    try {
      const mine = unsubscribeTargets('https://m.example', secret, { t: tenant.id, e: 'leave@client.example', l: list.id }, domain.returnPathDomain);
      assert.match(mine.mailto!, /^mailto:unsubscribe@bounces\.mailto-bank\.example\?subject=unsubscribe%20/);
      const url = new URL(mine.mailto!);
      const subject = decodeURIComponent(url.search.replace(/^\?subject=/, ''));
      // A forged token and another tenant's token first: neither may unsubscribe anyone.
      const forged = subject.slice(0, -4) + 'AAAA';
      const foreign = unsubscribeTargets('https://m.example', secret, { t: other.id, e: 'keep@client.example', l: list.id }, domain.returnPathDomain);
      const foreignSubject = decodeURIComponent(new URL(foreign.mailto!).search.replace(/^\?subject=/, ''));
      for (const s of [forged, foreignSubject]) {
        await transport.sendMail({ from: 'keep@client.example', to: url.pathname, subject: s, text: 'please' });
      }
      assert.equal(await isSubscribed(store, tenant.id, list.id, 'keep@client.example'), true);
      assert.equal(await isSubscribed(store, tenant.id, list.id, 'leave@client.example'), true);
      await transport.sendMail({ from: 'leave@client.example', to: url.pathname, subject: `Re: ${subject}`, text: 'unsubscribe me' });
      assert.equal(await isSubscribed(store, tenant.id, list.id, 'leave@client.example'), false);
      assert.equal(await isSubscribed(store, tenant.id, list.id, 'keep@client.example'), true);
      assert.equal(results.at(-1)?.unsubscribed, 'leave@client.example');
      await assert.rejects(transport.sendMail({ from: 'x@y.example', to: 'unsubscribe@not-ours.example', subject, text: 'x' }), /Relay access denied|554/);
    } finally {
      transport.close();
      await listener.close();
    }
  });
});
