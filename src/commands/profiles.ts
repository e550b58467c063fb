// `harden profiles list | show NAME | validate FILE`.
import type { CommandModule } from 'yargs';
import { loadFlagCatalogue, loadProfile, profileIdentity, profileWarnings, shippedProfiles } from '../effects/profile-store.js';
import { closest } from '../core/closest.js';
import { ruleWritesByVersion } from '../core/rule-versions.js';
import { ruleText } from '../ui/rule-view.js';
import { ExitCode, UsageError } from '../errors.js';
import type { CommandContext } from './context.js';
import { shown } from '../ui/terminal-text.js';
import { largest } from '../core/lists.js';

export function profilesCommand(context: CommandContext): CommandModule<object, { action: string; profile?: string; rule?: string }> {
  const { io } = context.effects;
  return {
    command: 'profiles <action> [profile] [rule]',
    describe: 'List the shipped profiles, show one profile\'s rules (or one rule whole), or validate a profile file',
    builder: (yargs) =>
      yargs
        .positional('action', { choices: ['list', 'show', 'validate'], describe: 'what to do' })
        .positional('profile', { type: 'string', describe: 'a shipped profile name or a profile file' })
        .positional('rule', { type: 'string', describe: 'show: one rule id of the profile, shown whole' })
        .option('color', { type: 'boolean', describe: 'colour the text output (--no-color turns it off; NO_COLOR is honoured)' })
        .example('$0 profiles list', 'the shipped profiles')
        .example('$0 profiles show baseline', 'its rules, with ids, severities and CIS ids')
        .example('$0 profiles show cis kubelet.read-only-port', 'one rule: rationale, risks, references, requirements, what it writes per version')
        .example('$0 profiles validate ./mine.yaml', 'check a profile file against the schema') as never,
    handler: async (options: { action: string; profile?: string; rule?: string }) => {
      if (options.action === 'list') {
        for (const name of shippedProfiles()) {
          const profile = await loadProfile(name);
          io.out(`${name.padEnd(10)} ${profile.rules.length} rules  ${shown(profile.title)}\n`);
        }
      } else {
        if (!options.profile) throw new UsageError(`profiles ${options.action} needs a profile name or file`, { hint: 'see harden profiles --help' });
        if (options.rule !== undefined && options.action !== 'show') throw new UsageError(`profiles ${options.action} takes no rule id`, { hint: `harden profiles show ${options.profile} ${options.rule} shows one rule` });
        const profile = await loadProfile(options.profile);
        if (options.rule !== undefined) {
          const rule = profile.allRules.find((candidate) => candidate.id === options.rule);
          if (!rule) {
            const guess = closest(options.rule, profile.allRules.map((candidate) => candidate.id));
            throw new UsageError(`profile ${profile.name} has no rule ${options.rule}`, { hint: `${guess ? `did you mean ${guess}? ` : ''}harden profiles show ${options.profile} lists its rules` });
          }
          io.out(ruleText(rule, profile.name, ruleWritesByVersion(rule, loadFlagCatalogue())));
        } else if (options.action === 'validate') {
          // Warnings do not make a profile invalid: harden can still plan with it, and says what looks wrong.
          for (const warning of await profileWarnings(profile)) io.err(`warning: ${shown(warning)}\n`);
          io.out(`${shown(options.profile)}: valid (profile ${shown(profile.name)}, ${profile.rules.length} rules)\n`);
        } else {
          // Where it comes from and its whole digest: what a plan's header shows the first 16 hex digits of.
          const identity = profileIdentity(profile);
          io.out(`${shown(profile.name)}: ${shown(profile.title)} (${identity.source === 'shipped' ? 'shipped' : `file ${shown(identity.file ?? '')}`}, ${identity.sha256})\n`);
          const width = largest(profile.rules.map((rule) => rule.id.length));
          for (const rule of profile.rules) {
            const cis = (rule.references ?? []).flatMap((ref) => ('cis' in ref ? [ref.cis] : []));
            io.out(`  ${shown(`${rule.id.padEnd(width)} ${rule.severity.padEnd(8)} ${rule.component.padEnd(24)} ${cis.length ? `CIS ${cis.join(', ')}` : ''}`)}\n`);
          }
        }
      }
      context.setExitCode(ExitCode.ok);
    },
  };
}
