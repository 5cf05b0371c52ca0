import fs from 'node:fs';
import path from 'node:path';

/**
 * The data folder holds the store, the secret key file and the TLS private key: it is the
 * Fanout user's alone. From start on, every file the process makes is private (umask 077:
 * files 0600, folders 0700, whichever capability makes them), and what an earlier version
 * left readable by others is narrowed: the folder, its sub-folders, and their files, two
 * levels deep.
 */
export function secureDataDir(dataDir: string): void {
  process.umask(0o077);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  narrow(dataDir, 0);
}

function narrow(p: string, depth: number): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    if (st.mode & 0o077) fs.chmodSync(p, 0o700);
    if (depth >= 2) return;
    for (const name of fs.readdirSync(p)) narrow(path.join(p, name), depth + 1);
  } else if (st.isFile() && st.mode & 0o077) {
    fs.chmodSync(p, 0o600);
  }
}
