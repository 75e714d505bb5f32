import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let pending: Promise<{ key: string; cert: string }> | undefined;

/**
 * A throwaway self-signed certificate for localhost / 127.0.0.1, valid one day.
 * Generated with the system `openssl` (node:crypto cannot build X.509 certificates) and
 * memoised per process, because RSA key generation is the slow part of every TLS test.
 */
export function makeTestCert(): Promise<{ key: string; cert: string }> {
  pending ??= generate().catch((err: unknown) => {
    pending = undefined; // let a later caller retry instead of caching the failure
    throw err;
  });
  return pending;
}

async function generate(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'wirefall-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    await new Promise<void>((resolve, reject) => {
      execFile(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
          '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1',
          '-keyout', keyPath, '-out', certPath],
        { timeout: 30_000 },
        (err, _stdout, stderr) => (err ? reject(new Error(`openssl failed: ${err.message}\n${stderr}`)) : resolve()),
      );
    });
    const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
    return { key, cert };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
