import fs from 'node:fs';
import path from 'node:path';

export interface TlsPair {
  key: string;
  cert: string;
  /** True when the pair was made here (self-signed) rather than configured. */
  selfSigned: boolean;
}

/**
 * The submission certificate: the configured PEM files, or a self-signed pair made once in the
 * data folder and reused on every start (clients that pin it keep working across restarts).
 */
export async function submissionCertificate(options: { dataDir: string; hostname: string; certFile: string | null; keyFile: string | null }): Promise<TlsPair> {
  if (options.certFile || options.keyFile) {
    if (!options.certFile || !options.keyFile) throw new Error('smtp.tlsCertFile and smtp.tlsKeyFile must be set together');
    return { cert: fs.readFileSync(options.certFile, 'utf8'), key: fs.readFileSync(options.keyFile, 'utf8'), selfSigned: false };
  }
  const dir = path.join(options.dataDir, 'tls');
  const certPath = path.join(dir, 'submission-cert.pem');
  const keyPath = path.join(dir, 'submission-key.pem');
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    return { cert: fs.readFileSync(certPath, 'utf8'), key: fs.readFileSync(keyPath, 'utf8'), selfSigned: true };
  }
  // Loaded only when a certificate has to be made (about 30 MiB resident).
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: options.hostname }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 5 * 365 * 86_400_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: options.hostname }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  } as Parameters<typeof generate>[1]);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Written key first, certificate last: a crash in between leaves no half pair that loads.
  fs.writeFileSync(keyPath, pems.private, { mode: 0o600 });
  fs.writeFileSync(certPath, pems.cert, { mode: 0o644 });
  return { cert: pems.cert, key: pems.private, selfSigned: true };
}
