// Questions to the operator: which changes to make, and a last yes or no. Behind an interface so tests answer
// them; the real one uses inquirer, loaded only when a command asks (start-up stays fast).
import { ExitCode, HardenError } from '../errors.js';

export interface ChoiceGroup {
  /** The file or target the changes belong to. */
  readonly title: string;
  readonly choices: readonly { readonly value: string; readonly name: string; readonly description?: string }[];
}

export interface Prompt {
  /** The values the operator keeps selected (all are selected to begin with). */
  choose(message: string, groups: readonly ChoiceGroup[], options?: PromptOptions): Promise<string[]>;
  /** A yes or no that defaults to No. */
  confirm(message: string, options?: PromptOptions): Promise<boolean>;
}

export interface PromptOptions {
  /** Ends the question as Ctrl-C does (a SIGTERM or SIGHUP the command caught). */
  readonly signal?: AbortSignal;
}

/** Ctrl-C at a prompt: nothing was written. */
export class Interrupted extends HardenError {
  constructor() {
    super('interrupted at the prompt: nothing was written', { exitCode: ExitCode.interrupted, hint: 'run the command again to start over' });
  }
}

async function interruptible<T>(question: Promise<T>): Promise<T> {
  try {
    return await question;
  } catch (error) {
    if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) throw new Interrupted();
    throw error;
  }
}

export const inquirerPrompt: Prompt = {
  async choose(message, groups, options = {}) {
    const { default: checkbox, Separator } = await import('@inquirer/checkbox');
    const choices = groups.flatMap((group) => [
      new Separator(group.title),
      ...group.choices.map((choice) => ({ value: choice.value, name: choice.name, description: choice.description, checked: true })),
    ]);
    return interruptible(checkbox({ message, choices, pageSize: 20, loop: false }, { signal: options.signal }));
  },
  async confirm(message, options = {}) {
    const { default: confirm } = await import('@inquirer/confirm');
    return interruptible(confirm({ message, default: false }, { signal: options.signal }));
  },
};
