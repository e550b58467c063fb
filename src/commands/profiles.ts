// `harden profiles list | show NAME | validate FILE`.
import type { CommandModule } from 'yargs';
import { loadProfile, shippedProfiles } from '../effects/profile-store.js';
import { ExitCode, UsageError } from '../errors.js';
import type { CommandContext } from './context.js';
import { largest } from '../core/lists.js';

export function profilesCommand(context: CommandContext): CommandModule<object, { action: string; profile?: string }> {
  const { io } = context.effects;
  return {
    command: 'profiles <action> [profile]',
    describe: 'List the shipped profiles, show one profile\'s rules, or validate a profile file',
    builder: (yargs) =>
      yargs
        .positional('action', { choices: ['list', 'show', 'validate'], describe: 'what to do' })
        .positional('profile', { type: 'string', describe: 'a shipped profile name or a profile file' })
        .example('$0 profiles list', 'the shipped profiles')
        .example('$0 profiles show baseline', 'its rules, with ids, severities and CIS ids')
        .example('$0 profiles validate ./mine.yaml', 'check a profile file against the schema') as never,
    handler: async (options: { action: string; profile?: string }) => {
      if (options.action === 'list') {
        for (const name of shippedProfiles()) {
          const profile = await loadProfile(name);
          io.out(`${name.padEnd(10)} ${profile.rules.length} rules  ${profile.title}\n`);
        }
      } else {
        if (!options.profile) throw new UsageError(`profiles ${options.action} needs a profile name or file`, { hint: 'see harden profiles --help' });
        const profile = await loadProfile(options.profile);
        if (options.action === 'validate') {
          io.out(`${options.profile}: valid (profile ${profile.name}, ${profile.rules.length} rules)\n`);
        } else {
          io.out(`${profile.name}: ${profile.title} (${profile.source})\n`);
          const width = largest(profile.rules.map((rule) => rule.id.length));
          for (const rule of profile.rules) {
            const cis = (rule.references ?? []).flatMap((ref) => ('cis' in ref ? [ref.cis] : []));
            io.out(`  ${rule.id.padEnd(width)} ${rule.severity.padEnd(8)} ${rule.component.padEnd(24)} ${cis.length ? `CIS ${cis.join(', ')}` : ''}\n`);
          }
        }
      }
      context.setExitCode(ExitCode.ok);
    },
  };
}
