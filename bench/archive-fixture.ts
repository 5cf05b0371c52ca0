// Shared by the archive and prune benchmarks: a fresh store on either engine, and synthetic
// archived messages written straight into the archive's tables, fast.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Insertable } from 'kysely';
import type { ArchiveMessageTable } from '../src/archive/tables.ts';
import pg from 'pg';
import { migrations } from '../src/app/capabilities.ts';
import { Store } from '../src/store/store.ts';
import type { Engine } from '../src/store/dialect.ts';

export const ADMIN_URL = process.env.FANOUT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function benchStore(engine: Engine): Promise<{ store: Store; dataDir: string; drop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-bench-'));
  let databaseUrl: string | null = null;
  const name = `fanout_bench_${randomBytes(5).toString('hex')}`;
  if (engine === 'postgres') {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(ADMIN_URL);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
  }
  const store = Store.open({ dataDir, databaseUrl });
  await store.migrate(migrations);
  return {
    store, dataDir,
    async drop() {
      await store.close();
      if (engine === 'postgres') {
        const admin = new pg.Client({ connectionString: ADMIN_URL });
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const WORDS = ['对账单', '信用卡', '账户', '变动', '提醒', '理财', '产品', '到期', '还款', '额度', '积分', '兑换', 'statement', 'payment', 'due', 'balance', 'savings', 'offer', 'notice', 'account', 'transfer', 'loan'];
const DAY = 86_400_000;

/** Deterministic pseudo-random numbers, so runs compare. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

export interface Synthetic {
  tenantId: string;
  /** A recipient and a Message-ID known to exist (for lookups). */
  sampleRecipient: string;
  sampleHeaderId: string;
  from: number;
  to: number;
}

/**
 * `count` archived messages of one tenant spread over `days` days ending at `end`; every
 * `expiredEvery`-th one already expired at `end`. Bodies are small (the benchmark measures
 * indexes, not bytes).
 */
export async function fillArchive(store: Store, count: number, options: { days?: number; end?: number; expiredEvery?: number; tenantId?: string } = {}): Promise<Synthetic> {
  const days = options.days ?? 365;
  const end = options.end ?? Date.now();
  const tenantId = options.tenantId ?? 'tn_bench';
  const rand = rng(42);
  const recipients = Math.max(10, Math.floor(count / 10));
  const batch = 1000;
  let sampleRecipient = '';
  let sampleHeaderId = '';
  const body = Buffer.from('From: n@bank.test\r\nSubject: s\r\n\r\nbody\r\n');
  const sha = 'ab'.repeat(32);
  for (let i = 0; i < count; i += batch) {
    const rows: Insertable<ArchiveMessageTable>[] = [];
    const rcpts: { recipient: string; sent_at: number }[] = [];
    const n = Math.min(batch, count - i);
    for (let k = 0; k < n; k++) {
      const j = i + k;
      const sentAt = end - Math.floor((1 - j / count) * days * DAY);
      const words = Array.from({ length: 12 }, () => WORDS[Math.floor(rand() * WORDS.length)]!);
      const recipient = `c${Math.floor(rand() * recipients)}@client${j % 50}.example`;
      const header = `m${j}.${Math.floor(rand() * 1e9)}@bank.test`;
      if (j === Math.floor(count / 2)) {
        sampleRecipient = recipient;
        sampleHeaderId = header;
      }
      const expired = options.expiredEvery ? j % options.expiredEvery === 0 : false;
      rows.push({
        tenant_id: tenantId, account_id: 'ac_bench', lane: j % 3 ? 'transactional' : 'bulk', message_id: `msg_b${j}`, header_message_id: header,
        mail_from: 'n@bank.test', sender: 'n@bank.test', subject: words.slice(0, 3).join(''), tags: j % 4 ? ',statement,' : ',marketing,',
        sent_at: sentAt, archived_at: sentAt, expires_at: expired ? end - DAY : end + 365 * DAY, day: new Date(sentAt).toISOString().slice(0, 10),
        size: body.length, sha256: sha, body, search_text: words.join(' '), removed_at: null, removed_reason: null,
      });
      rcpts.push({ recipient, sent_at: sentAt });
    }
    await store.transaction(async (trx) => {
      const ids = await trx.insertInto('archive_messages').values(rows).returning('id').execute();
      await trx.insertInto('archive_recipients').values(ids.map((r, k) => ({ archive_id: Number(r.id), tenant_id: tenantId, recipient: rcpts[k]!.recipient, sent_at: rcpts[k]!.sent_at }))).execute();
      if (store.engine === 'sqlite') {
        for (let k = 0; k < ids.length; k++) await sql`insert into archive_fts (rowid, text) values (${Number(ids[k]!.id)}, ${rows[k]!.search_text})`.execute(trx);
      }
    });
  }
  if (store.engine === 'postgres') await sql`analyze`.execute(store.db);
  return { tenantId, sampleRecipient, sampleHeaderId, from: end - 30 * DAY, to: end };
}
