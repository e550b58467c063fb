// What `harden completion` completes beyond yargs' commands and options: profile names (--profile, `profiles
// show|validate`), rule ids (--only, --skip, `profiles show NAME`) and snapshot ids (`rollback`, `snapshots
// show|diff`). Asked by the shell on every TAB (`harden --get-yargs-completions harden WORD…`), so nothing it
// reads may fail loudly: an unknown profile, a wrong root or an unreadable state dir completes nothing.
import { realFileOps } from '../effects/file-ops.js';
import { loadProfile, shippedProfiles } from '../effects/profile-store.js';
import { listSnapshots } from '../effects/snapshots.js';
import { DEFAULT_PROFILE, stateTarget } from './options.js';

/**
 * The completions of the last of `typed` (the words after `harden`, the last one being typed, empty after a
 * space), or null where yargs' own completion (commands, options) answers. `takesValue` names the options
 * whose next word is their value, not a positional.
 */
export async function completeWords(typed: readonly string[], takesValue: ReadonlySet<string>): Promise<string[] | null> {
  const current = typed[typed.length - 1] ?? '';
  const previous = typed[typed.length - 2];
  if (current.startsWith('-')) return null;
  const positionals: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < typed.length - 1; i += 1) {
    const word = typed[i];
    const option = /^--?([^=]+)(=(.*))?$/.exec(word);
    if (!option) positionals.push(word);
    else if (option[2] !== undefined) values.set(option[1], option[3]);
    else if (takesValue.has(option[1]) && i + 1 < typed.length - 1) values.set(option[1], typed[(i += 1)]);
  }
  try {
    if (previous === '--profile') return matching(shippedProfiles(), current);
    if (previous === '--only' || previous === '--skip') {
      // A comma-separated list: complete its last id, keeping those before it.
      const head = current.slice(0, current.lastIndexOf(',') + 1);
      return matching(await ruleIds(values.get('profile') ?? DEFAULT_PROFILE), current.slice(head.length)).map((id) => `${head}${id}`);
    }
    // Any other option's value (a directory, a number): nothing of harden's, so the shell completes file names.
    if (previous !== undefined && previous.startsWith('--') && takesValue.has(previous.slice(2))) return [];
    const [command, action, name] = positionals;
    const place = positionals.length;
    if (command === 'profiles' && (action === 'show' || action === 'validate') && place === 2) return matching(shippedProfiles(), current);
    if (command === 'profiles' && action === 'show' && place === 3) return matching(await ruleIds(name), current);
    if ((command === 'rollback' && place === 1) || (command === 'snapshots' && (action === 'show' || action === 'diff') && place === 2)) {
      const target = await stateTarget(realFileOps, { root: [values.get('root') ?? '/'], stateDir: values.get('state-dir') });
      return matching((await listSnapshots(realFileOps, target.stateDir)).map((snapshot) => snapshot.id), current);
    }
  } catch {
    return [];
  }
  return null;
}

async function ruleIds(profile: string): Promise<string[]> {
  return (await loadProfile(profile)).allRules.map((rule) => rule.id);
}

function matching(candidates: readonly string[], current: string): string[] {
  return candidates.filter((candidate) => candidate.startsWith(current));
}
