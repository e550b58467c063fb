// The environment MicroK8s' daemons see, in node paths (never prefixed by --root).

export const SNAP = '/snap/microk8s/current';
export const SNAP_COMMON = '/var/snap/microk8s/common';
export const SNAP_DATA_CURRENT = '/var/snap/microk8s/current';
export const ARGS_DIR = `${SNAP_DATA_CURRENT}/args`;

/**
 * `${SNAP_DATA}` is the revision directory that `current` points to (`/var/snap/microk8s/6089`); when the
 * revision is unknown, `current` stands for it.
 */
export function snapVars(revision: string | null): Record<string, string> {
  return {
    SNAP,
    SNAP_DATA: revision ? `/var/snap/microk8s/${revision}` : SNAP_DATA_CURRENT,
    SNAP_COMMON,
  };
}
