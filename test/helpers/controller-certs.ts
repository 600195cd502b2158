/** Test PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1, client certificates by CN. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  /** Paths of the server's files, for the controller's flags. */
  files: { ca: string; cert: string; key: string };
  ca: Buffer;
  /** A client certificate and key whose subject CN is `cn`, signed by the CA. */
  client(cn: string): { cert: Buffer; key: Buffer; ca: Buffer };
  cleanup(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'cox-pki-'));
  const p = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', ...EC, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '1', '-subj', '/CN=cox test CA');
  const issue = (name: string, cn: string, ext?: string) => {
    openssl('req', ...EC, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`);
    const extArgs = ext ? (writeFileSync(p(`${name}.ext`), ext), ['-extfile', p(`${name}.ext`)]) : [];
    openssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${name}.crt`), '-days', '1', ...extArgs);
  };
  issue('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const ca = readFileSync(p('ca.crt'));
  return {
    dir,
    files: { ca: p('ca.crt'), cert: p('server.crt'), key: p('server.key') },
    ca,
    client(cn) {
      const name = `client-${cn.replace(/\W/g, '_')}`;
      issue(name, cn);
      return { cert: readFileSync(p(`${name}.crt`)), key: readFileSync(p(`${name}.key`)), ca };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
