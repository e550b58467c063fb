// Where rules may reach on a node. A profile names its paths under ${SNAP_DATA} or ${SNAP_COMMON}, or one of a
// few fixed paths that shipped rules need (profiles/schema.json refuses anything else); the same limits hold
// for the real path a node path leads to once the node's own symlinks are followed, so that neither a profile
// nor a link planted on the node takes a mode, owner or file of harden's anywhere else.

/** The snap's data tree: every revision's data dir (${SNAP_DATA}), `current`, and `common` (${SNAP_COMMON}). */
export const SNAP_DATA_TREE = '/var/snap/microk8s';

/** The paths outside the snap's data tree that rules may name: what shipped rules need, and nothing more. */
export const FIXED_RULE_PATHS: readonly { readonly pattern: RegExp; readonly shown: string }[] = [
  { pattern: /^\/etc\/systemd\/system\/snap\.microk8s\.daemon-[a-z0-9-]+\.service$/, shown: '/etc/systemd/system/snap.microk8s.daemon-NAME.service' },
  { pattern: /^\/var\/log\/apiserver$/, shown: '/var/log/apiserver' },
  { pattern: /^\/etc\/sysctl\.d\/([0-9][0-9]|zz)-harden(-[a-z0-9]+)*\.conf$/, shown: '/etc/sysctl.d/NN-harden-NAME.conf (or zz-harden-NAME.conf)' },
];

/**
 * Whether a node path (a rule's, expanded; or the real path behind it) is one harden may act on: absolute,
 * without empty, `.` or `..` components (so nothing is left to normalise and nothing climbs out), and either
 * strictly inside one of the snap's data dirs (`/var/snap/microk8s/<dir>/…`) or one of the fixed paths.
 */
export function permittedNodePath(nodePath: string): boolean {
  if (!nodePath.startsWith('/')) return false;
  const parts = nodePath.slice(1).split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..' || part.includes('\0'))) return false;
  if (FIXED_RULE_PATHS.some(({ pattern }) => pattern.test(nodePath))) return true;
  const tree = SNAP_DATA_TREE.slice(1).split('/');
  // var/snap/microk8s, a data dir (a revision, current or common), and at least one name inside it.
  return parts.length >= tree.length + 2 && tree.every((part, index) => parts[index] === part);
}

/** The words for what permittedNodePath allows, for messages. */
export function permittedText(): string {
  return `${SNAP_DATA_TREE}/ (the snap's data and common dirs) or ${FIXED_RULE_PATHS.map((entry) => entry.shown).join(', ')}`;
}

/** The owners a rule may give: root, with the group root or the snap's. */
export const PERMITTED_OWNERS: readonly string[] = ['root:root', 'root:microk8s', 'root:snap_microk8s'];
