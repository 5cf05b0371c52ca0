// Egress throughput into the loopback sink: messages/s and CPU per message on this process
// (the sink runs in a child process so its CPU is not counted here).
// Usage: node bench/egress.ts [messages=20000] [connections=10] [tls=0|1] [rset=1|0] [egress|nodemailer]
// "nodemailer" runs nodemailer's own pooled transport on the same raw message, as a yardstick
// for this machine (the delivery issue quotes it at 0.54 ms of CPU a message).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { Egress } from '../src/delivery/outbound/egress.ts';
import { SmtpSink } from '../src/testing/smtp-sink.ts';

if (process.argv[2] === '--sink') {
  const sink = await SmtpSink.start({ capture: false, starttls: process.argv[3] === '1' });
  process.send?.({ port: sink.port });
  process.on('message', (m) => {
    if (m === 'count') process.send?.({ messages: sink.counters.messages, maxConcurrent: sink.counters.maxConcurrentConnections, cpu: process.cpuUsage() });
    if (m === 'stop') void sink.close().then(() => process.exit(0));
  });
} else {
  const total = Number(process.argv[2] ?? 20000);
  const connections = Number(process.argv[3] ?? 10);
  const tls = process.argv[4] === '1';
  const rset = process.argv[5] !== '0';
  const mode = process.argv[6] === 'nodemailer' ? 'nodemailer' : 'egress';
  const child = fork(fileURLToPath(import.meta.url), ['--sink', tls ? '1' : '0']);
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const egress = new Egress({ heloName: 'bench.fanout.test', rsetBetweenMessages: rset, limitsFor: () => ({ maxConnections: connections, messagesPerConnection: 1000, messagesPerMinute: 0 }) });
  const body = 'Dear client, your statement is ready. '.repeat(80).replace(/(.{76})/g, '$1\r\n');
  const message = Buffer.from(`From: statements@bank.test\r\nTo: client@example.test\r\nSubject: Statement\r\nMessage-ID: <x@bank.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n${body}\r\n`);
  const hosts = [{ host: '127.0.0.1', port }];
  const inflight = connections * 4;
  let next = 0, delivered = 0, other = 0;
  const transport = nodemailer.createTransport({ pool: true, host: '127.0.0.1', port, maxConnections: connections, maxMessages: 1000, ignoreTLS: !tls, tls: { rejectUnauthorized: false } });
  const sendOne = mode === 'egress'
    ? async (rcpt: string) => (await egress.send({ site: 'bench', hosts, mailFrom: 'b@bank.test', recipients: [rcpt], message })).perRecipient[0]?.outcome === 'delivered'
    : async (rcpt: string) => (await transport.sendMail({ envelope: { from: 'b@bank.test', to: [rcpt] }, raw: message })).accepted.length === 1;
  const warm = async () => { await sendOne('w@example.test'); };
  await Promise.all(Array.from({ length: connections }, warm));
  child.send('count');
  const sinkCpu0 = await new Promise<NodeJS.CpuUsage>((resolve) => child.once('message', (m: { cpu: NodeJS.CpuUsage }) => resolve(m.cpu)));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) {
      next++;
      if (await sendOne(`c${next}@example.test`)) delivered++;
      else other++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  child.send('count');
  const seen = await new Promise<{ messages: number; maxConcurrent: number; cpu: NodeJS.CpuUsage }>((resolve) => child.once('message', (m: { messages: number; maxConcurrent: number; cpu: NodeJS.CpuUsage }) => resolve(m)));
  const sinkCpuMs = (seen.cpu.user + seen.cpu.system - sinkCpu0.user - sinkCpu0.system) / 1000;
  console.log(JSON.stringify({
    mode, messages: total, bytes: message.length, connections, tls, rset, delivered, other,
    perSecond: Math.round(total / secs),
    cpuMsPerMessage: Number(((cpu.user + cpu.system) / 1000 / total).toFixed(4)),
    sinkMessages: seen.messages, sinkMaxConcurrent: seen.maxConcurrent, sinkCpuMsPerMessage: Number((sinkCpuMs / total).toFixed(4)),
  }));
  await egress.close();
  transport.close();
  child.send('stop');
}
