import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startServer } from '../../app/server.ts';
import type { RunningServer } from '../../app/server.ts';
import type { FanoutConfig } from '../../config/schema.ts';
import { freePort } from '../../testing/cli.ts';
import { testConfig } from '../../testing/http.ts';
import { describeEachEngine } from '../../testing/stores.ts';
import { reverseName, TestDnsServer } from '../../testing/dns-server.ts';
import { HttpSession, makeUser, publish, runCliAsync, tenantWithDomains } from '../../testing/operations.ts';
import { pdfText } from '../../testing/pdf-text.ts';
import type { CheckResult } from './types.ts';

interface Report { id: string; status: string; checks: CheckResult[]; changes: unknown[]; previousId: string | null; signals: { key: string; action: string; ticketId: string | null }[] }

describeEachEngine('inspections against a running Fanout (own DNS server, two nodes)', (get) => {
  const dns = new TestDnsServer();
  let config: FanoutConfig;
  let nodeA: RunningServer;
  let nodeB: RunningServer | null = null;
  let http: HttpSession;
  let configFile: string;

  const start = async (nodeId: string, roles: FanoutConfig['roles']) => {
    process.env.FANOUT_NODE_ID = nodeId;
    try {
      return await startServer({ ...config, roles, logLevel: 'silent' });
    } finally {
      delete process.env.FANOUT_NODE_ID;
    }
  };
  const inspect = async (kind: 'full' | 'light' = 'full'): Promise<Report> => {
    const res = await http.request('POST', '/api/v1/inspections', { kind });
    assert.equal(res.status, 201, res.text);
    return res.json() as Report;
  };
  const check = (r: Report, key: string, subject: string | null = null) => {
    const c = r.checks.find((x) => x.key === key && (subject === null || x.subject === subject));
    assert.ok(c, `no ${key} ${subject ?? ''} in ${r.checks.map((x) => `${x.key}/${x.subject}`).join(', ')}`);
    return c;
  };

  before(async () => {
    const { store, dataDir, databaseUrl } = get();
    const server = await dns.start();
    const [httpPort, smtpPort, bouncePort] = [await freePort(), await freePort(), await freePort()];
    const { domains } = await tenantWithDomains(store, ['good.test', 'broken.test']);
    const [good, broken] = domains as [typeof domains[0], typeof domains[0]];
    config = testConfig(dataDir, {
      databaseUrl, http: { host: '127.0.0.1', port: httpPort }, smtp: { host: '127.0.0.1', port: smtpPort }, bounce: { host: '127.0.0.1', port: bouncePort },
      // Signing on the calling thread: a DKIM worker of a node stopped and started in this process
      // can leave a referenced MessagePort behind that keeps the test process alive.
      delivery: { dkim: { workers: 0 }, heloName: 'mail.good.test', routes: { [good.returnPathDomain]: `127.0.0.1:${bouncePort}` } },
      operations: {
        customer: { name: '恒丰银行', contact: '张三', phone: '010-1234', place: '北京数据中心' },
        heartbeatSeconds: 1, schedule: { enabled: false },
        // Latency and load on a machine shared by the whole suite say nothing here.
        thresholds: { serviceLatencyWarnMs: 30_000, databaseLatencyWarnMs: 30_000, nodeStaleIntervals: 3, cpuWarnPercent: 101, cpuErrorPercent: 101, memoryWarnPercent: 101, memoryErrorPercent: 101, diskWarnPercent: 101, diskErrorPercent: 101 },
        dns: { servers: [server], timeoutMs: 3000 },
        blocklist: { zones: ['bl.test'], ips: ['192.0.2.1', '192.0.2.2', '192.0.2.3'] },
        probe: { from: 'probe@good.test', timeoutSeconds: 8 },
      },
    });
    publish(dns, config, good);
    publish(dns, config, broken, true);
    // 192.0.2.1 is listed; for 192.0.2.2 the zone answers its "query refused" error code; 192.0.2.3 is clean.
    dns.set('1.2.0.192.bl.test', { A: ['127.0.0.2'], TXT: ['listed for spam traps'] });
    dns.set('2.2.0.192.bl.test', { A: ['127.255.255.254'] });
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) dns.set(reverseName(ip), { PTR: ['mail.good.test'] });
    dns.set('mail.good.test', { A: ['192.0.2.1', '192.0.2.2', '192.0.2.3'] });

    nodeA = await start('node-a', ['http', 'smtp', 'bounce']);
    nodeB = await start('node-b', ['sender']);
    const admin = await makeUser(store, 'administrator', 'ops-admin');
    http = new HttpSession(`http://127.0.0.1:${httpPort}`);
    await http.login(admin.username, admin.password);
    configFile = path.join(dataDir, 'fanout.config.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...config, roles: undefined }));
  });

  after(async () => {
    await nodeB?.stop();
    await nodeA?.stop();
    await dns.close();
  });

  test('a full inspection: services up, the probe comes back DKIM-signed, DNS and blocklists judged per domain and address', async () => {
    const r = await inspect();
    for (const key of ['smtp', 'http', 'bounce_listener', 'sender', 'database', 'queue_depth', 'queue_oldest', 'features', 'tls_certificate', 'version']) {
      assert.equal(check(r, key).status, 'ok', `${key}: ${check(r, key).message}`);
    }
    const features = check(r, 'features').value as { approval: string; search: string; archive: string; archiveSearchLatencyMs: number };
    assert.deepEqual([features.approval, features.search, features.archive], ['ok', 'ok', 'ok']);
    assert.ok(features.archiveSearchLatencyMs >= 0);
    const probe = check(r, 'send_receive');
    assert.equal(probe.status, 'ok', probe.message);
    const pv = probe.value as { latencySeconds: number; dkim: string };
    assert.equal(pv.dkim, 'pass');
    assert.ok(pv.latencySeconds > 0 && pv.latencySeconds < 8);

    for (const key of ['dns.spf', 'dns.dkim', 'dns.dmarc', 'dns.mx']) {
      assert.equal(check(r, key, 'good.test').status, 'ok', `${key} good.test: ${check(r, key, 'good.test').message}`);
    }
    assert.equal(check(r, 'dns.spf', 'broken.test').status, 'error');
    assert.match(check(r, 'dns.dkim', 'broken.test').message, /different public key/);
    assert.match(check(r, 'dns.dmarc', 'broken.test').message, /no DMARC record/);
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) assert.equal(check(r, 'dns.ptr', ip).status, 'ok', check(r, 'dns.ptr', ip).message);
    assert.equal(check(r, 'dns.bulk_sender', 'good.test').status, 'ok', check(r, 'dns.bulk_sender', 'good.test').message);
    assert.equal(check(r, 'dns.bulk_sender', 'broken.test').status, 'warning');

    const listed = check(r, 'blocklist', '192.0.2.1');
    assert.equal(listed.status, 'error');
    assert.match(listed.message, /listed on bl\.test \(127\.0\.0\.2: listed for spam traps\)/);
    const refused = check(r, 'blocklist', '192.0.2.2');
    assert.equal(refused.status, 'warning', 'an error code is not a listing');
    assert.match(refused.message, /error code 127\.255\.255\.254 \(not a listing/);
    assert.equal(check(r, 'blocklist', '192.0.2.3').status, 'ok');
    const temperature = check(r, 'temperature');
    if (temperature.status === 'unavailable') assert.match(temperature.message, /no temperature sensor/);
    assert.equal(r.status, 'error');

    // The monitors opened tickets for what is broken, and none for the mail flow.
    const opened = new Map(r.signals.filter((s) => s.action === 'opened').map((s) => [s.key, s.ticketId]));
    for (const key of ['blocklisted:192.0.2.1', 'dns.spf:broken.test', 'dns.dkim:broken.test', 'dns.dmarc:broken.test']) assert.ok(opened.has(key), `no ticket for ${key}`);
    assert.ok(!opened.has('mail-flow-down') && !opened.has('blocklisted:192.0.2.2'));
    const bl = (await http.request('GET', `/api/v1/tickets/${opened.get('blocklisted:192.0.2.1')}`)).json() as { priority: string; source: string };
    assert.deepEqual([bl.priority, bl.source], ['P2', 'monitor']);
    const spf = (await http.request('GET', `/api/v1/tickets/${opened.get('dns.spf:broken.test')}`)).json() as { priority: string };
    assert.equal(spf.priority, 'P3');
  });

  test('the sender stopped: the probe fails, one P1 ticket opens once; started again: a recovery note', async () => {
    await nodeB!.stop();
    nodeB = null;
    const failing = await inspect();
    assert.equal(check(failing, 'sender').status, 'error');
    const probe = check(failing, 'send_receive');
    assert.equal(probe.status, 'error');
    assert.match(probe.message, /did not come back within 8 s/);
    assert.ok(failing.changes.some((c) => (c as { key: string; to: string }).key === 'send_receive'), 'the change since the previous report is shown');
    const p1 = failing.signals.find((s) => s.key === 'mail-flow-down');
    assert.equal(p1?.action, 'opened');

    const again = await inspect('light');
    assert.equal(again.signals.find((s) => s.key === 'mail-flow-down')?.action, 'deduplicated');
    const list = (await http.request('GET', '/api/v1/tickets?priority=P1')).json() as { items: { id: string; signalKey: string; priority: string }[] };
    assert.deepEqual(list.items.map((t) => t.id), [p1!.ticketId], 'exactly one P1 ticket');

    // The CLI says the same to cron: non-zero while the sender is down.
    const env = { FANOUT_CONFIG: configFile };
    const down = await runCliAsync(['inspect', '--light'], env);
    assert.equal(down.status, 1, down.stderr);
    assert.match(down.stdout, /ERR\s+sender\s+no sender is running/);

    nodeB = await start('node-b', ['sender']);
    const recovered = await inspect();
    assert.equal(check(recovered, 'send_receive').status, 'ok', check(recovered, 'send_receive').message);
    assert.equal(recovered.signals.find((s) => s.key === 'mail-flow-down')?.action, 'recovered');
    const ticket = (await http.request('GET', `/api/v1/tickets/${p1!.ticketId}`)).json() as { signalRecoveredAt: string | null; timeline: { type: string }[] };
    assert.ok(ticket.signalRecoveredAt);
    assert.deepEqual(ticket.timeline.map((e) => e.type), ['created', 'signal_recovered']);
    const events = (await http.request('GET', `/api/v1/tickets/events?ticketId=${p1!.ticketId}`)).json() as { items: { type: string }[] };
    assert.deepEqual(events.items.map((e) => e.type), ['ticket.created', 'ticket.signal_recovered']);

    const up = await runCliAsync(['inspect', '--light', '--json'], env);
    const errors = (JSON.parse(up.stdout) as Report).checks.filter((c) => c.status === 'error').map((c) => `${c.key}: ${c.message}`);
    assert.deepEqual(errors, []);
    assert.equal(up.status, 0, up.stderr);
    assert.match((await runCliAsync(['inspect', '--light'], env)).stdout, /OK\s+sender/);
  });

  test('the inspection report renders to HTML and PDF, in Chinese and English, with the history', async () => {
    const list = (await http.request('GET', '/api/v1/inspections?kind=full')).json() as { items: { id: string }[] };
    assert.equal(list.items.length, 3);
    const id = list.items[0]!.id;
    const pdf = await http.request('GET', `/api/v1/inspections/${id}/report?format=pdf&lang=zh-CN`);
    assert.equal(pdf.status, 200, pdf.text);
    assert.equal(pdf.type, 'application/pdf');
    const text = pdfText(pdf.bytes).replace(/\s+/g, '');
    for (const phrase of ['巡检报告', '客户名称', '恒丰银行', '北京数据中心', '系统环境检查', '集群（2个节点）', '邮件收发是否正常', '客户系统架构图', '总体打分（满分5分）', '与上次巡检相比的变化', '正常']) {
      assert.ok(text.includes(phrase), `PDF text lacks ${phrase}`);
    }
    const html = await http.request('GET', `/api/v1/inspections/${id}/report?format=html&lang=en`);
    assert.match(html.type, /text\/html/);
    assert.match(html.text, /<h1>Inspection report<\/h1>/);
    assert.match(html.text, /cluster \(2 nodes\)/);
    assert.match(html.text, /<svg class="diagram"/);
    const series = (await http.request('GET', `/api/v1/inspections/series?key=send_receive&from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`)).json() as { points: { status: string }[] };
    assert.deepEqual(series.points.map((p) => p.status), ['ok', 'error', 'ok']);
  });
});
