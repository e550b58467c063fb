// Loads profiles: shipped ones by name (from profiles/, or from inside the single-file build), users' own by
// path; follows `extends`, merges rules (a rule in the extending profile replaces the one with the same id),
// and applies --only/--skip.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogueOf, parseFlagCatalogue, type FlagCatalogue } from '../core/flag-catalogue.js';
import { formatProblem, parseProfile, unknownFlagWarnings, type ProfileDocument, type ProfileProblem, type Rule } from '../core/profile.js';
import type { ProfileIdentity } from '../core/plan.js';
import { ProfileError } from '../errors.js';
import { builtin } from '../lazy.js';
import { closest } from '../core/closest.js';
import { embeddedFiles } from './embedded-files.js';
import { profileValidator } from './profile-validator.js';

export const PROFILES_DIR = fileURLToPath(new URL('../../../profiles/', import.meta.url));

export interface LoadedProfile {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** Where it came from: `profiles/baseline.yaml`, or the path the user gave. */
  readonly source: string;
  /** Whether it is one of harden's own profiles (named), rather than a file the user gave. */
  readonly shipped: boolean;
  /** The file's absolute path, for a profile the user gave; null for a shipped one. */
  readonly file: string | null;
  /** The selected rules (after --only and --skip). */
  readonly rules: readonly Rule[];
  /** Every rule, after extends and before the selection: what the profile's digest covers. */
  readonly allRules: readonly Rule[];
}

/**
 * What a plan says of the profile it was made from: a user's file never passes for a shipped profile, however it
 * names itself, and the digest covers everything the profile says (its name, title, description and every rule,
 * inherited ones too), so `apply` can tell when the profile changed since the plan was made.
 */
export function profileIdentity(profile: LoadedProfile): ProfileIdentity {
  const content = JSON.stringify({ name: profile.name, title: profile.title, description: profile.description, rules: profile.allRules });
  const sha256 = `sha256:${builtin('node:crypto').createHash('sha256').update(content).digest('hex')}`;
  return { name: profile.name, source: profile.shipped ? 'shipped' : 'file', file: profile.file, sha256 };
}

let catalogue: FlagCatalogue | null = null;
/** The flag version catalogue shipped with the profiles (profiles/flag-catalogue.tsv). */
export function loadFlagCatalogue(): FlagCatalogue {
  catalogue ??= embeddedFiles ? catalogueOf(embeddedFiles.flagCatalogue) : parseFlagCatalogue(readFileSync(path.join(PROFILES_DIR, 'flag-catalogue.tsv'), 'utf8'));
  return catalogue;
}

/** Names of the shipped profiles. */
export function shippedProfiles(): string[] {
  if (embeddedFiles) return Object.keys(embeddedFiles.profiles).sort();
  return readdirSync(PROFILES_DIR).filter((name) => name.endsWith('.yaml')).map((name) => name.slice(0, -5)).sort();
}

/** `from` is the profile that names `reference` in its `extends` (shown as `fromShown`), or null for --profile. */
function locate(reference: string, from: string | null, fromShown: string | null = null): { file: string; shown: string; shipped: boolean } {
  const by = fromShown === null ? '' : `${fromShown}: extends: `;
  const unknownProfile = () => {
    const guess = closest(reference, shippedProfiles());
    return new ProfileError(`${by}unknown profile "${reference}"`, { hint: `${guess ? `did you mean ${guess}? ` : ''}shipped profiles: ${shippedProfiles().join(', ')}; or pass a file path` });
  };
  if (/^[a-z0-9][a-z0-9-]*$/.test(reference) && !reference.endsWith('.yaml')) {
    const file = path.join(PROFILES_DIR, `${reference}.yaml`);
    if (!(embeddedFiles ? Object.hasOwn(embeddedFiles.profiles, reference) : existsSync(file))) throw unknownProfile();
    return { file, shown: `profiles/${reference}.yaml`, shipped: true };
  }
  const file = from ? path.resolve(path.dirname(from), reference) : path.resolve(reference);
  const shown = from ? path.relative(process.cwd(), file) || file : reference;
  // A bare word that is no file here (`CIS`, `Baseline`) was meant as a profile name, not a path.
  if (!/[/.]/.test(reference) && !existsSync(file)) throw unknownProfile();
  if (from !== null && !existsSync(file)) throw new ProfileError(`${by}cannot read profile ${shown}`, { hint: 'extends names a shipped profile, or a file relative to the profile that extends it' });
  return { file, shown, shipped: false };
}

/** The text of a template shipped with the profiles, by its name under profiles/; null when there is none. */
export function readShippedTemplate(name: string): string | null {
  if (embeddedFiles) return Object.hasOwn(embeddedFiles.templates, name) ? embeddedFiles.templates[name] : null;
  try {
    return readFileSync(path.join(PROFILES_DIR, name), 'utf8');
  } catch {
    return null;
  }
}

/** Reads and validates one profile file (no extends, no selection). */
export async function readProfileFile(file: string, shown: string): Promise<ProfileDocument> {
  return (await parseProfileFile(file, shown)).profile;
}

async function parseProfileFile(file: string, shown: string) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ProfileError(`cannot read profile ${shown}`, { hint: 'check the path' });
  }
  const parsed = await parseProfile(text, shown, profileValidator());
  if (!parsed.ok) throw problemsError(parsed.problems);
  return parsed;
}

/**
 * What `profiles validate` warns of in a profile file the user gave (its own rules, not those it extends): flags
 * the flag catalogue does not list. Empty for a shipped profile. Call after loadProfile has found it valid.
 */
export async function profileWarnings(profile: LoadedProfile): Promise<string[]> {
  if (profile.file === null) return [];
  const parsed = await parseProfileFile(profile.file, profile.source);
  return unknownFlagWarnings(parsed.profile, loadFlagCatalogue(), parsed.lineOf, profile.source).map(formatProblem);
}

export async function loadProfile(reference: string, selection: { only: readonly string[]; skip: readonly string[] } = { only: [], skip: [] }): Promise<LoadedProfile> {
  const chain: string[] = [];
  const load = async (ref: string, from: { file: string; shown: string } | null): Promise<{ doc: ProfileDocument; rules: Rule[]; shown: string; file: string; shipped: boolean }> => {
    const { file, shown, shipped } = locate(ref, from?.file ?? null, from?.shown ?? null);
    if (chain.includes(file)) throw new ProfileError(`${shown}: extends itself (${[...chain, file].map((f) => path.basename(f)).join(' -> ')})`, { hint: 'break the extends cycle' });
    chain.push(file);
    const doc = shippedDocument(ref) ?? await readProfileFile(file, shown);
    const inherited = doc.extends ? (await load(doc.extends, { file, shown })).rules : [];
    const own = new Map(doc.rules.map((rule) => [rule.id, rule]));
    const rules = [...inherited.map((rule) => own.get(rule.id) ?? rule), ...doc.rules.filter((rule) => !inherited.some((r) => r.id === rule.id))];
    return { doc, rules, shown, file, shipped };
  };
  const { doc, rules, shown, file, shipped } = await load(reference, null);

  const known = new Set(rules.map((rule) => rule.id));
  const problems: ProfileProblem[] = [];
  for (const rule of rules) {
    for (const requirement of rule.requires ?? []) {
      if ('rule' in requirement && !known.has(requirement.rule)) {
        problems.push({ file: shown, line: 0, ruleId: rule.id, message: `requires unknown rule "${requirement.rule}"` });
      }
    }
  }
  if (problems.length > 0) throw problemsError(problems);
  const unknown = [...selection.only, ...selection.skip].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new ProfileError(`unknown rule id${unknown.length > 1 ? 's' : ''} ${unknown.map((id) => `"${id}"`).join(', ')} in --only/--skip (profile ${doc.name})`, {
      hint: `harden profiles show ${reference} lists the rule ids`,
    });
  }
  const selected = rules.filter((rule) => (selection.only.length === 0 || selection.only.includes(rule.id)) && !selection.skip.includes(rule.id));
  return { name: doc.name, title: doc.title, description: doc.description ?? '', source: shown, shipped, file: shipped ? null : file, rules: selected, allRules: rules };
}

/** A shipped profile the single-file build carries (parsed and validated when it was built), by name. */
function shippedDocument(reference: string): ProfileDocument | null {
  return embeddedFiles && Object.hasOwn(embeddedFiles.profiles, reference) ? embeddedFiles.profiles[reference] : null;
}

function problemsError(problems: readonly ProfileProblem[]): ProfileError {
  const [first, ...rest] = problems.map(formatProblem).map((line) => line.replace(/^(.*?):0: /, '$1: '));
  return new ProfileError(first, { more: rest, hint: 'fix the profile; profiles/schema.json describes the format' });
}
