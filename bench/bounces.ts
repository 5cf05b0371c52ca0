// Bounce classifier throughput: messages classified per second over the shared corpus of real
// bounces (read into memory first, so the figure is the classifier's, not the disk's).
import fs from 'node:fs';
import path from 'node:path';
import { classifyMessage } from '../src/bounces/classify.ts';
import { CORPUS_DIR, UNSEEN_DIR, measureAgreement } from '../src/bounces/corpus.ts';

const dir = path.join(CORPUS_DIR, 'maildir');
const messages = fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).map((f) => fs.readFileSync(path.join(dir, f)));
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

// Warm up so the figure is the steady state.
for (const m of messages) classifyMessage(m);

let count = 0;
let recipients = 0;
// CPU time as well as wall time: on a shared, loaded machine the wall-clock figure mostly
// measures the other processes; CPU seconds spent by this one are the classifier's own cost.
const cpuStart = process.cpuUsage();
const start = performance.now();
const deadline = start + seconds * 1000;
while (performance.now() < deadline) {
  for (const m of messages) {
    recipients += classifyMessage(m).recipients.length;
    count++;
  }
}
const elapsed = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const agreement = measureAgreement();
const pct = (n: number, total = agreement.total) => ((100 * n) / total).toFixed(2);
const heldOut = measureAgreement(CORPUS_DIR, 'held-out');
const unseen = measureAgreement(UNSEEN_DIR);
const dev = measureAgreement(UNSEEN_DIR, 'dev');
const blind = measureAgreement(UNSEEN_DIR, 'blind');
console.log(JSON.stringify({
  benchmark: 'bounces',
  corpus_messages: messages.length,
  messages_classified: count,
  recipients_found: recipients,
  seconds: Number(elapsed.toFixed(2)),
  messages_per_second: Math.round(count / elapsed),
  cpu_seconds: Number(cpuSeconds.toFixed(2)),
  messages_per_cpu_second: Math.round(count / cpuSeconds),
  reason_agreement_pct: Number(pct(agreement.reasonAgree)),
  hard_bounce_agreement_pct: Number(pct(agreement.hardAgree)),
  held_out_half_reason_pct: Number(pct(heldOut.reasonAgree, heldOut.total)),
  held_out_half_hard_bounce_pct: Number(pct(heldOut.hardAgree, heldOut.total)),
  unseen_reason_pct: Number(pct(unseen.reasonAgree, unseen.total)),
  unseen_hard_bounce_pct: Number(pct(unseen.hardAgree, unseen.total)),
  unseen_dev_reason_pct: Number(pct(dev.reasonAgree, dev.total)),
  unseen_dev_hard_bounce_pct: Number(pct(dev.hardAgree, dev.total)),
  unseen_blind_reason_pct: Number(pct(blind.reasonAgree, blind.total)),
  unseen_blind_hard_bounce_pct: Number(pct(blind.hardAgree, blind.total)),
}));
