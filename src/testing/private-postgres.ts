import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './cli.ts';

/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl from Debian's packages, in a temp
 * folder, on its own loopback port), so a test can stop, restart or kill it without touching
 * the machine's shared server. Runs as the `postgres` system user when started as root, since
 * PostgreSQL refuses to run as root.
 */
export interface PrivatePostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/<db> */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  start(): void;
  /** pg_ctl stop -m fast (clients are disconnected, as at a restart or fail-over). */
  stop(): void;
  restart(): void;
  /** Stops the server and removes its folder. */
  destroy(): void;
}

export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, 'bin') : null;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fanout-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  let uid: number | undefined;
  let gid: number | undefined;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    fs.chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) => {
    const r = spawnSync(path.join(bin, tool), args, { uid, gid, cwd: dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = () => run('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
  start();
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let alive = true;
  return {
    port,
    url,
    async createDatabase(name: string) {
      const admin = new pg.Client({ connectionString: url() });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    start() {
      start();
      alive = true;
    },
    stop() {
      stop();
      alive = false;
    },
    restart() {
      stop();
      start();
    },
    destroy() {
      if (alive) {
        try {
          stop();
        } catch {
          // already down
        }
      }
      alive = false;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
