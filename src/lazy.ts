// Node's built-in modules that only some commands need, loaded on first use rather than when the CLI starts:
// `harden check` never pays for crypto (plans, snapshots, temp names), the network modules (health probes), os
// (reading /proc/net), child_process (restarts) or tty (questions). Synchronous, and through require rather
// than import(), so that the single-file build runs the same way under every loader (scripts/build-bundle.js).
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

interface Lazy {
  'node:child_process': typeof import('node:child_process');
  'node:crypto': typeof import('node:crypto');
  'node:http': typeof import('node:http');
  'node:https': typeof import('node:https');
  'node:net': typeof import('node:net');
  'node:os': typeof import('node:os');
  'node:tty': typeof import('node:tty');
  'node:zlib': typeof import('node:zlib');
}

export function builtin<Name extends keyof Lazy>(name: Name): Lazy[Name] {
  return load(name) as Lazy[Name];
}
