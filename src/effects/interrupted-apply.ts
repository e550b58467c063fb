// An apply (or rollback) that a signal, a kill or a person stopped after its first write and before it was
// verified or put back: the node may run a change no health gate passed. Reported by every command that reports
// on or changes the node, until that change is verified or rolled back.
import { interruptedChange } from '../core/snapshot-manifest.js';
import { shown } from '../ui/terminal-text.js';
import type { FileOps } from './file-ops.js';
import type { FileSystem } from './file-system.js';
import { liveHolder } from './lock.js';
import { listSnapshots, type SnapshotReader } from './snapshots.js';

/** The interrupted change on this state dir, or null. Never throws: this only feeds a warning. */
export async function findInterruptedChange(reader: SnapshotReader, stateDir: string): Promise<{ id: string; kind: string; status: string } | null> {
  try {
    return interruptedChange(await listSnapshots(reader, stateDir), (await liveHolder(reader, stateDir)) !== null);
  } catch {
    return null;
  }
}

/**
 * The one warning line on stderr, when there is an interrupted change. Rolling back its snapshot undoes what was
 * interrupted: an apply's change, or a rollback's restore (its snapshot holds the node as it was before).
 */
export async function warnInterruptedChange(context: { effects: { fs: FileSystem; io: { err(text: string): void }; change?: { ops?: FileOps } } }, stateDir: string): Promise<void> {
  const found = await findInterruptedChange(context.effects.change?.ops ?? context.effects.fs, stateDir);
  if (!found) return;
  context.effects.io.err(
    `warning: ${found.kind === 'rollback' ? 'a rollback' : 'an apply'} was interrupted (snapshot ${shown(found.id)}, status ${found.status}): the node may run an unverified change; harden rollback ${shown(found.id)} puts it back\n`,
  );
}
