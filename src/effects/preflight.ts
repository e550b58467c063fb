// The pre-flight of apply and rollback: what cannot change during the long waits ahead (the before-gate, the
// prompt, the after-gate), checked at once, so that a run that can never succeed fails in a moment with the real
// cause and nothing written, instead of after the full health timeout. Run once the lock is held (the lock is
// the first check: see lock.ts) and the change is known, before the first wait. `--force` skips none of it: it
// only overrides an unhealthy node before the change, never a missing terminal, tool or credential.
import { appendAll } from '../core/lists.js';
import { HardenError } from '../errors.js';
import type { Probe } from './health.js';
import type { Services } from './services.js';

export interface PreflightInput {
  /** Whether questions can be asked (a terminal on stdin and stdout). */
  readonly interactive: boolean;
  /** --yes: no question will be asked. */
  readonly yes: boolean;
  /** What the question would confirm: `the changes`, `the rollback`. */
  readonly confirming: string;
  /** False with --no-restart: nothing is restarted and no gate runs, so only the terminal matters. */
  readonly restart: boolean;
  /** The units the change restarts; none: no gate runs. */
  readonly restarts: readonly string[];
  readonly services: Services;
  /** The probes the gates will run over `restarts`. */
  readonly probes: readonly Probe[];
}

export async function preflight(input: PreflightInput): Promise<void> {
  if (!input.yes && !input.interactive) {
    throw new HardenError(`no terminal to confirm ${input.confirming}: nothing was written`, { hint: 'run it in a terminal, or pass --yes' });
  }
  if (!input.restart || input.restarts.length === 0) return;
  try {
    await input.services.answering();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof HardenError && error.hint ? `${error.hint}; ` : '';
    throw new HardenError(`${message}: the restarts and health gates cannot run, nothing was written`, { hint: `${hint}or pass --no-restart to write the files only` });
  }
  const problems: string[] = [];
  for (const probe of input.probes) if (probe.credentials) appendAll(problems, await probe.credentials());
  const unique = [...new Set(problems)];
  if (unique.length > 0) {
    const [first, ...more] = unique.map((problem) => `${problem}; nothing was written`);
    throw new HardenError(first, { more, hint: 'fix the credentials the health probes read (credentials/client.config and the files it names), or pass --no-restart to write the files only' });
  }
}
