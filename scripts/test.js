// Runs every test file with node's own runner on the project's Node 24.
// PostgreSQL is part of the suite: when it cannot be reached the run fails here, clearly.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

// The delivery and bounce tests talk to a real Postfix (destination MX, DSN source, smtp-source).
if (!fs.existsSync('/usr/sbin/postfix')) {
  if (process.getuid?.() === 0) {
    const setup = spawnSync('sh', ['scripts/setup-postfix.sh'], { stdio: 'inherit' });
    if (setup.status !== 0) process.exit(setup.status ?? 1);
  } else {
    console.error('Postfix is required by the test suite: run "sudo sh scripts/setup-postfix.sh" once');
    process.exit(1);
  }
}

// The console's browser tests drive Debian's Chromium.
if (!fs.existsSync('/usr/bin/chromium')) {
  if (process.getuid?.() === 0) {
    const setup = spawnSync('sh', ['scripts/setup-chromium.sh'], { stdio: 'inherit' });
    if (setup.status !== 0) process.exit(setup.status ?? 1);
  } else {
    console.error('Chromium is required by the console tests: run "sudo sh scripts/setup-chromium.sh" once');
    process.exit(1);
  }
}

// The operations reports embed a CJK font in their PDFs; the tests read them back with pdftotext.
if (!fs.existsSync('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc') || spawnSync('sh', ['-c', 'command -v pdftotext']).status !== 0) {
  if (process.getuid?.() === 0) {
    const setup = spawnSync('sh', ['scripts/setup-report-tools.sh'], { stdio: 'inherit' });
    if (setup.status !== 0) process.exit(setup.status ?? 1);
  } else {
    console.error('fonts-noto-cjk and poppler-utils are required by the test suite: run "sudo sh scripts/setup-report-tools.sh" once');
    process.exit(1);
  }
}

// The bounce classifier is checked against Debian's Sisimai (a differential oracle) on bounces
// that Debian's MTAs write.
const mtaPrefix = process.env.FANOUT_MTA_PREFIX ?? '/opt/fanout-mta';
const oracleParts = ['/usr/share/perl5/Sisimai.pm', `${mtaPrefix}/exim/usr/sbin/exim4`, `${mtaPrefix}/opensmtpd/usr/sbin/smtpd`, `${mtaPrefix}/sendmail/usr/libexec/sendmail/sendmail`, '/usr/bin/m4'];
if (oracleParts.some((f) => !fs.existsSync(f)) && process.getuid?.() === 0) {
  const setup = spawnSync('sh', ['scripts/setup-bounce-oracle.sh'], { stdio: 'inherit' });
  if (setup.status !== 0) process.exit(setup.status ?? 1);
}

const url = process.env.FANOUT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
try {
  await client.connect();
  await client.query('select 1');
  await client.end();
} catch (err) {
  console.error(`PostgreSQL is required by the test suite and could not be reached at ${url}: ${err.message}`);
  process.exit(1);
}

function collect(dir, out) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) collect(full, out);
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = [...collect('src', []), ...collect('test', [])].sort();
if (filter.length) files = files.filter((f) => filter.some((s) => f.includes(s)));
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
