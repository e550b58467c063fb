// Answers the questions rules ask about a node (does this file exist, with which mode; a sysctl; how a
// kubeconfig authenticates), read inside the node root.
import type { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { builtin } from '../lazy.js';
import type { EntryFact, NodeFactAnswers, PathFact } from '../core/evaluate.js';
import type { NodeFacts } from '../core/node.js';
import { SNAP_DATA_CURRENT } from '../core/node-env.js';
import { errorCode, type FileSystem } from './file-system.js';
import { RootedReader } from './node-reader.js';
import { readSysctlFiles } from './sysctl-files.js';
import { sysctlProcPath } from '../core/sysctl.js';

export async function answerFacts(
  fs: FileSystem,
  root: string,
  node: Pick<NodeFacts, 'users' | 'groups'>,
  queries: { paths: readonly string[]; entries?: readonly string[]; listings?: readonly string[]; sysctls: readonly string[]; kubeconfigs: readonly string[]; sysctlFiles?: boolean; parents?: readonly string[]; signatures?: readonly (readonly [string, string])[] },
  reader = new RootedReader(fs, path.resolve(root)),
): Promise<NodeFactAnswers> {
  const describe = async (nodePath: string): Promise<PathFact | null> => {
    const resolved = await reader.resolve(nodePath);
    const stat = resolved ? await reader.stat(resolved) : null;
    return stat
      ? {
          type: stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : 'other',
          mode: stat.mode,
          owner: `${node.users[stat.uid] ?? stat.uid}:${node.groups[stat.gid] ?? stat.gid}`,
          writable: (stat.mode & 0o200) !== 0,
        }
      : null;
  };
  // The entry itself: its directory resolved as the node resolves it, its own name never followed.
  const describeEntry = async (nodePath: string): Promise<EntryFact | null> => {
    const slash = nodePath.lastIndexOf('/');
    const name = nodePath.slice(slash + 1);
    const dir = slash <= 0 ? '/' : nodePath.slice(0, slash);
    const realDir = name === '' || name === '.' || name === '..' ? null : await reader.resolve(dir);
    if (realDir === null) return null;
    const realPath = `${realDir === '/' ? '' : realDir}/${name}`;
    let stat;
    try {
      stat = await fs.lstat(reader.host(realPath));
    } catch (error) {
      if (['ENOENT', 'ENOTDIR'].includes(errorCode(error) ?? '')) return null;
      throw error;
    }
    const link = stat.isSymbolicLink();
    return {
      type: stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : link ? 'link' : 'other',
      mode: stat.mode,
      owner: `${node.users[stat.uid] ?? stat.uid}:${node.groups[stat.gid] ?? stat.gid}`,
      writable: (stat.mode & 0o200) !== 0,
      realPath,
      uid: stat.uid,
      gid: stat.gid,
      dev: stat.dev,
      ino: stat.ino,
      nlink: stat.nlink,
      target: link ? await fs.readlink(reader.host(realPath)) : null,
    };
  };
  // Why a node path, resolved in the root, could not be written (access(2): EROFS on a read-only mount); null when it could or is not there.
  const writeRefusal = async (nodePath: string): Promise<string | null> => {
    const real = await reader.resolve(nodePath);
    return real === null ? null : fs.writeRefusal(reader.host(real));
  };
  const paths: Record<string, PathFact | null> = {};
  for (const nodePath of queries.paths) paths[nodePath] = await describe(nodePath);
  const entries: Record<string, EntryFact | null> = {};
  for (const nodePath of queries.entries ?? []) entries[nodePath] = await describeEntry(nodePath);
  const listings: Record<string, (EntryFact & { name: string })[] | null> = {};
  for (const dir of queries.listings ?? []) {
    const self = entries[dir] ?? (await describeEntry(dir));
    // Only a directory that is itself there is looked into: never one reached through a link of its own.
    const names = self?.type === 'directory' ? await reader.list(self.realPath) : null;
    if (names === null) {
      listings[dir] = null;
      continue;
    }
    const found: (EntryFact & { name: string })[] = [];
    for (const name of names.sort()) {
      const fact = await describeEntry(`${dir}/${name}`);
      if (fact) found.push({ name, ...fact });
    }
    listings[dir] = found;
  }
  const sysctls: Record<string, string | null> = {};
  const sysctlRefusals: Record<string, string | null> = {};
  for (const key of queries.sysctls) {
    const text = await reader.readText(sysctlProcPath(key));
    sysctls[key] = text === null ? null : text.trim();
    // Whether the running value could be set: access(2), which a read-only procfs answers with EROFS.
    sysctlRefusals[key] = text === null ? null : await writeRefusal(sysctlProcPath(key));
  }
  const kubeconfigs: Record<string, 'token' | 'certificate' | 'unknown' | null> = {};
  for (const name of queries.kubeconfigs) {
    const text = await reader.readText(`${SNAP_DATA_CURRENT}/credentials/${name}`);
    kubeconfigs[name] = text === null ? null : /^\s*token:/m.test(text) ? 'token' : /^\s*client-certificate(-data)?:/m.test(text) ? 'certificate' : 'unknown';
  }
  // Whether a directory could be created in each parent: access(2), which a read-only mount answers with EROFS.
  const createRefusals: Record<string, string | null> = {};
  for (const parent of queries.parents ?? []) {
    createRefusals[parent] = await writeRefusal(parent);
  }
  // Whether each certificate was issued by its CA and verifies with the CA's key (a kubelet's self-signed one does not).
  const signatures: Record<string, 'signed' | 'self-signed' | 'another issuer' | 'not a certificate' | 'missing'> = {};
  for (const [cert, ca] of queries.signatures ?? []) {
    const [certText, caText] = [await reader.readText(cert), await reader.readText(ca)];
    signatures[`${cert}\0${ca}`] = certText === null || caText === null ? 'missing' : signedBy(certText, caText);
  }
  return {
    ...((queries.signatures ?? []).length > 0 ? { signatures } : {}),
    paths,
    entries,
    listings,
    sysctls,
    kubeconfigs,
    ...(queries.sysctlFiles ? { sysctlFiles: await readSysctlFiles(reader), sysctlRefusals } : {}),
    ...((queries.parents ?? []).length > 0 ? { createRefusals } : {}),
  };
}

/** What a PEM certificate is to a PEM CA: signed by it, self-signed, issued by another, or not a certificate. */
function signedBy(certText: string, caText: string): 'signed' | 'self-signed' | 'another issuer' | 'not a certificate' {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    const { X509Certificate: Certificate } = builtin('node:crypto');
    cert = new Certificate(certText);
    ca = new Certificate(caText);
  } catch {
    return 'not a certificate';
  }
  if (cert.checkIssued(ca) && cert.verify(ca.publicKey)) return 'signed';
  return cert.checkIssued(cert) ? 'self-signed' : 'another issuer';
}
