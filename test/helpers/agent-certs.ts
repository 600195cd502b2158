/**
 * Test certificates made with the openssl CLI: a CA, a server certificate for 127.0.0.1, and
 * client certificates whose subject CN names a node (`<gid>_<nid>`), all signed by the CA.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  ca: string;
  server: { key: string; cert: string };
  /** Paths of the client certificate and key for `cn`. */
  client(cn: string): { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function signed(dir: string, name: string, subject: string, ext?: string): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  const extArgs = ext ? ['-extfile', `${name}.ext`] : [];
  if (ext) writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, ...extArgs]);
}

export function makePki(dir: string): Pki {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=coxswain test CA']);
  signed(dir, 'server', '/CN=127.0.0.1', 'subjectAltName = IP:127.0.0.1\n');
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    server: { key: readFileSync(join(dir, 'server.key'), 'utf8'), cert: readFileSync(join(dir, 'server.crt'), 'utf8') },
    client(cn) {
      signed(dir, cn, `/CN=${cn}`);
      return { cert: join(dir, `${cn}.crt`), key: join(dir, `${cn}.key`) };
    },
  };
}
