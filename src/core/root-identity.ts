// Which node a saved plan was made for: the real path of the root, the snap revision it runs, and the node's
// `/etc/machine-id` where it has one. A copy of a root (a cloned image, a `cp -a` of a test root) reads the same
// and plans the same, so a plan records where it was made and `apply` refuses it elsewhere. Cloned images share
// a machine id, so it is never the only key. Pure: the effects read them (src/effects/plan-store.ts).

export interface RootIdentity {
  /** The root's real path (every symlink followed), `/` on the node itself. */
  readonly path: string;
  /** The snap revision the node runs (where /var/snap/microk8s/current leads), or null when unknown. */
  readonly revision: string | null;
  /** The node's /etc/machine-id (32 lowercase hex digits), or null where there is none. */
  readonly machineId: string | null;
}

/** A machine id as systemd writes it; anything else (empty, `uninitialized`) is no machine id. */
export function machineIdOf(text: string | null): string | null {
  const id = text?.trim() ?? '';
  return /^[0-9a-f]{32}$/.test(id) ? id : null;
}

/** `/srv/node-a (machine-id 0123…, revision 6364)`. */
export function identityText(identity: RootIdentity): string {
  return `${identity.path} (${identity.machineId === null ? 'no machine-id' : `machine-id ${identity.machineId}`}, ${identity.revision === null ? 'revision unknown' : `revision ${identity.revision}`})`;
}

/** What differs between the root a plan was made for and this one, in words (`the root is /srv/b`); null when nothing does. */
export function identityDifference(saved: RootIdentity, here: RootIdentity): string | null {
  const differs: string[] = [];
  if (saved.path !== here.path) differs.push(`the root is ${here.path}`);
  if (saved.machineId !== here.machineId) differs.push(here.machineId === null ? 'there is no machine-id' : `the machine-id is ${here.machineId}`);
  if (saved.revision !== here.revision) differs.push(here.revision === null ? 'the revision is unknown' : `the revision is ${here.revision}`);
  return differs.length === 0 ? null : `here ${differs.join(', ')}`;
}
