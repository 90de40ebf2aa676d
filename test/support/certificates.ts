import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files of a throwaway CA, a broker certificate for 127.0.0.1 and a site's client certificate. */
export interface TestPki {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: 'pipe' });
  } catch (err) {
    const failure = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (failure.code === 'ENOENT') throw new Error('openssl is missing: install it (apt-get install openssl) to run the TLS tests');
    throw new Error(`openssl ${args[0]} failed: ${failure.stderr?.toString() ?? failure.message}`);
  }
}

/** Signs a key's certificate with the CA; the broker's carries 127.0.0.1 as its subject alternative name. */
function issue(dir: string, name: string, subject: string, extensions: string): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `${extensions}\n`);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', extFile], dir);
}

/** Makes the files in `dir` with the openssl command line tool. */
export function makeTestPki(dir: string): TestPki {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=echolake test CA'], dir);
  issue(dir, 'server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1');
  issue(dir, 'client', '/CN=site-tls', 'extendedKeyUsage=clientAuth');
  return {
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
  };
}
