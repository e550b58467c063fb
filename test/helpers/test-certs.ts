// Certificates made with openssl at test time, for real TLS servers on loopback, and kubeconfigs that use them.
// No openssl: the tests that need it fail plainly (CI installs it).
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './node-root.js';

export interface TestCerts {
  readonly ca: string;
  readonly caKey: string;
  /** For 127.0.0.1, usable as a server and as a client pair. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** An admin client pair (O=system:masters). */
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed none of these. */
  readonly otherCa: string;
}

let once: Promise<TestCerts> | null = null;

/** One CA and its pairs per test process. */
export function testCerts(): Promise<TestCerts> {
  once ??= (async () => {
    const dir = await makeTempDir('harden-certs-');
    const openssl = (...args: string[]) => {
      try {
        execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(code === 'ENOENT' ? 'openssl is not installed: these tests make certificates with it (apt-get install openssl)' : `openssl ${args.join(' ')} failed: ${error}`);
      }
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=10.152.183.1');
    openssl('req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '2', '-subj', '/CN=someone-else');
    await fs.writeFile(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
    await fs.writeFile(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const [name, subject] of [['server', '/CN=127.0.0.1'], ['client', '/O=system:masters/CN=admin']]) {
      openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
    }
    const read = (name: string) => fs.readFile(path.join(dir, name), 'utf8');
    const certs = {
      ca: await read('ca.crt'),
      caKey: await read('ca.key'),
      serverCert: await read('server.crt'),
      serverKey: await read('server.key'),
      clientCert: await read('client.crt'),
      clientKey: await read('client.key'),
      otherCa: await read('other-ca.crt'),
    };
    await fs.rm(dir, { recursive: true, force: true });
    return certs;
  })();
  return once;
}

export const b64 = (text: string) => Buffer.from(text).toString('base64');

/** The `user:` lines of a kubeconfig that authenticates with the admin client pair. */
export const x509User = (c: TestCerts) => `    client-certificate-data: ${b64(c.clientCert)}\n    client-key-data: ${b64(c.clientKey)}\n`;
