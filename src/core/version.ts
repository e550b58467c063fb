// MicroK8s versions: the Kubernetes minor version a snap ships (`v1.28.3` -> 1.28.3).

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number | null;
}

export function parseVersion(text: string): Version | null {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!match) return null;
  return { major: Number(match[1]), minor: Number(match[2]), patch: match[3] === undefined ? null : Number(match[3]) };
}

export function formatVersion(version: Version): string {
  return `${version.major}.${version.minor}${version.patch === null ? '' : `.${version.patch}`}`;
}

/** Compares major and minor only: what decides flags, readers and services. */
export function compareMinor(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor;
}

export function atLeast(version: Version, minimum: string): boolean {
  return compareMinor(version, parseVersion(minimum)!) >= 0;
}
