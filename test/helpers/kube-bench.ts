// An emulation of kube-bench's flag matcher, to compare kube-bench's verdicts on MicroK8s args files
// with our own. It runs the cis-1.24-microk8s checks whose audit is a plain `cat` of an args file,
// on file texts given in memory, and reproduces what kube-bench would report for each.
//
// It also runs kube-bench's generic cis-1.12 checks, read for MicroK8s (readOnMicroK8s): those audits are
// `ps -ef | grep $apiserverbin | grep -v grep` and `ps -fC $kubeletbin`, with an `audit_config` of the
// component's config file read through a JSONPath. On MicroK8s `ps` shows one kubelite process, whose command
// line carries none of the flags, so each such audit is read as `cat $<component>conf` on the path the
// addon config gives (the args file), and the `audit_config` (and each item's JSONPath) is ignored: MicroK8s
// runs no KubeletConfiguration or kube-proxy config file.
//
// Where each behaviour comes from (aquasecurity/kube-bench, Go source):
// - check/test.go: testItem.findValue (which finder runs), flagTestItem.findValue (substring, then the
//   regex), pathTestItem.findValue (YAML/JSON + JSONPath), envTestItem.findValue, testItem.execute
//   (trailing trim, use_multiple_values rows), testItem.evaluate (`set`), compareOp (every op),
//   splitAndRemoveLastSeparator / allElementsValid (valid_elements), toNumeric (gt/gte/lt/lte),
//   UnmarshalYAML (`set` defaults to true).
// - check/check.go: Check.run (PASS, else FAIL when scored and WARN when not; an audit error gives the
//   same FAIL/WARN), runAuditCommands (audit, then audit_config, file-not-found suppression),
//   Check.execute (audit output first, audit_config output only when the flag was not found,
//   bin_op and/or, default and), runAudit (/bin/sh, stdout and stderr into one buffer, a non-zero
//   exit status is an error).
// - cmd/util.go: getFiles/findConfigFile (a variable is the first existing conf candidate, else the
//   component's defaultconf, else the component name), makeSubstitutions ("$" + component + "conf").
// Read from kube-bench's main-line sources of the cis-1.12 era (the code index had no copy at the
// pinned commit a73ce378 itself; these functions are the same across the versions it had). findValue
// is the one without the "--flag value" reading that the open PR #2125 proposes. During development
// every flag check was run both here and in a Go harness built from those functions (with yaml.v2
// 2.4.0 and /bin/sh) on all fixture versions and thousands of generated args files: same verdicts.
//
// Pure functions, except loadKubeBenchReference, which reads the fixture copies in test/fixtures/.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, parseAllDocuments, parseDocument, visit } from 'yaml';
import { repoRoot } from './paths.js';

/** Where MicroK8s keeps the args files; the addon config's conf entry under it names the file. */
export const MICROK8S_ARGS_DIR = '/var/snap/microk8s/current/args/';

export type KubeBenchStatus = 'PASS' | 'FAIL' | 'WARN';

export interface KbCompare {
  op: string;
  value: string;
}

export interface KbTestItem {
  flag: string;
  env: string;
  path: string;
  set: boolean;
  compare: KbCompare;
}

export interface KbCheck {
  id: string;
  text: string;
  /** The `type` of the controls file the check is in (master, etcd, controlplane, node, policies). */
  section: string;
  type: string;
  audit: string;
  auditConfig: string;
  auditEnv: string;
  scored: boolean;
  useMultipleValues: boolean;
  /** null when the check has no `tests:` at all (as kube-bench's `c.Tests == nil`). */
  tests: { binOp: string; items: KbTestItem[] } | null;
  /** Set by readOnMicroK8s: the `ps` audit kube-bench runs, which `audit` (a `cat`) stands for on MicroK8s. */
  psAudit?: string;
}

export interface KbControls {
  id: string;
  section: string;
  checks: KbCheck[];
}

/** The addon config's sections (master, node, etcd, controlplane, ...), component by component. */
export type AddonConfig = Record<string, Record<string, { confs?: string[]; defaultconf?: string }>>;

export interface KubeBenchReference {
  benchmark: Benchmark;
  controls: KbControls[];
  addonConfig: AddonConfig;
}

/** The benchmarks under test/fixtures/kube-bench/. */
export type Benchmark = 'cis-1.24-microk8s' | 'cis-1.12';
export const BENCHMARKS: readonly Benchmark[] = ['cis-1.24-microk8s', 'cis-1.12'];

/** One shell step after `cat`: grep -v (drop lines), grep (keep lines), optionally `|| true`. */
export interface CatAudit {
  variable: string;
  filter: { kind: 'all' } | { kind: 'drop' | 'keep'; pattern: string };
  orTrue: boolean;
}

export interface FlagCheck extends KbCheck {
  tests: { binOp: string; items: KbTestItem[] };
  /** The args file name under /var/snap/microk8s/current/args/ that the audit cats. */
  file: string;
  /** What kube-bench cats when that file is missing: the component's defaultconf, or its name. */
  missingPath: string;
  auditPipeline: CatAudit;
  configPipeline: CatAudit | null;
}

export interface NonFlagCheck {
  id: string;
  section: string;
  scored: boolean;
  reason: string;
}

export interface KbItemResult {
  flag: string;
  found: boolean;
  value: string;
}

export interface FlagCheckResult {
  id: string;
  scored: boolean;
  file: string;
  passed: boolean;
  status: KubeBenchStatus;
  items: KbItemResult[];
  /** Why kube-bench gave up before testing (audit command failed, unknown bin_op, ...); '' if it did not. */
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// Loading

const CONTROLS_FILES = ['master', 'etcd', 'controlplane', 'node', 'policies'] as const;

const cachedReferences = new Map<Benchmark, KubeBenchReference>();

/**
 * The only fs access here: the byte-exact copies under test/fixtures/kube-bench/ (see SOURCE.md). cis-1.12's
 * checks come read for MicroK8s (readOnMicroK8s).
 */
export function loadKubeBenchReference(benchmark: Benchmark = 'cis-1.24-microk8s'): KubeBenchReference {
  const cached = cachedReferences.get(benchmark);
  if (cached) return cached;
  const dir = path.join(repoRoot, 'test', 'fixtures', 'kube-bench');
  const read = (...parts: string[]) => readFileSync(path.join(dir, ...parts), 'utf8');
  const controls = CONTROLS_FILES.map((name) => parseControls(read(benchmark, `${name}.yaml`)));
  const reference: KubeBenchReference = {
    benchmark,
    controls: benchmark === 'cis-1.12' ? controls.map((c) => ({ ...c, checks: c.checks.map(readOnMicroK8s) })) : controls,
    addonConfig: parseAddonConfig(read('microk8s-addon-config.yaml')),
  };
  cachedReferences.set(benchmark, reference);
  return reference;
}

/** `ps -ef | grep $apiserverbin | grep -v grep`, `/bin/ps -ef | /bin/grep $etcdbin | ...`, `/bin/ps -fC $kubeletbin`. */
const PS_AUDIT = /^(?:\/bin\/)?ps -(?:ef \| (?:\/bin\/)?grep|fC) \$(\w+)bin(?: \| (?:\/bin\/)?grep -v grep)?$/;

/**
 * A generic check as it reads on MicroK8s: a `ps` audit becomes `cat $<component>conf` (the addon config maps
 * the variable to the args file), its `audit_config` and the items' JSONPaths are dropped. Any other check
 * (stat, find, manual, ...) is returned as it is. `psAudit` keeps the audit kube-bench itself runs.
 */
export function readOnMicroK8s(check: KbCheck): KbCheck {
  const ps = PS_AUDIT.exec(check.audit.trim());
  if (!ps || check.type === 'manual' || check.type === 'skip') return check;
  return {
    ...check,
    audit: `cat $${ps[1]}conf`,
    auditConfig: '',
    psAudit: check.audit,
    tests: check.tests && { ...check.tests, items: check.tests.items.map((item) => ({ ...item, path: '' })) },
  };
}

/**
 * yaml.v2 (libyaml) reads a double-quoted scalar whose continuation lines are indented no deeper than its key
 * (cis-1.12's etcd.yaml 2.4 `text: "... are` / `set as appropriate (Automated)"`); the `yaml` package refuses
 * it. Indenting those continuation lines by two more spaces changes nothing in the value (a quoted scalar's
 * line breaks fold to a space and the indentation of the next line is dropped), so the parse is kube-bench's.
 */
export function indentQuotedContinuations(text: string): string {
  const opensQuote = /^\s*(?:- )?[\w-]+: "(?:[^"\\]|\\.)*$/;
  const closesQuote = /^(?:[^"\\]|\\.)*"/;
  let open = false;
  return text
    .split('\n')
    .map((line) => {
      if (open) {
        open = !closesQuote.test(line);
        return `  ${line}`;
      }
      open = opensQuote.test(line);
      return line;
    })
    .join('\n');
}

/**
 * Parses YAML the way kube-bench's yaml.v2 fills string fields: with the scalar's own text
 * (`value: false` is the string "false", `value: 0` is "0", never a re-printed number), and a null
 * scalar leaves the field empty.
 */
function parseAsGoStrings(text: string): unknown {
  const doc = parseDocument(indentQuotedContinuations(text), { version: '1.1' });
  if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
  visit(doc, {
    Scalar(_key, node) {
      node.value = node.value === null ? '' : (node.source ?? String(node.value));
    },
  });
  return doc.toJS();
}

/** yaml.v2 into a Go bool: the YAML 1.1 spellings (decode.go accepts them quoted too). */
function goYamlBool(value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const text = String(value);
  if (['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].includes(text)) return true;
  if (['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF', ''].includes(text)) return false;
  throw new Error(`not a YAML boolean: ${JSON.stringify(text)}`);
}

type YamlMap = Record<string, unknown>;

function asMap(value: unknown): YamlMap {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as YamlMap) : {};
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function parseTestItem(raw: unknown): KbTestItem {
  const item = asMap(raw);
  const compare = asMap(item.compare);
  return {
    flag: str(item.flag),
    env: str(item.env),
    path: str(item.path),
    // UnmarshalYAML starts from testItem{Set: true}: `set` defaults to true.
    set: goYamlBool(item.set, true),
    compare: { op: str(compare.op), value: str(compare.value) },
  };
}

function parseCheck(raw: unknown, section: string): KbCheck {
  const check = asMap(raw);
  const tests = check.tests === undefined || check.tests === '' ? null : asMap(check.tests);
  return {
    id: str(check.id),
    text: str(check.text),
    section,
    type: str(check.type),
    audit: str(check.audit),
    auditConfig: str(check.audit_config),
    auditEnv: str(check.audit_env),
    scored: goYamlBool(check.scored, false),
    useMultipleValues: goYamlBool(check.use_multiple_values, false),
    tests: tests && { binOp: str(tests.bin_op), items: asList(tests.test_items).map(parseTestItem) },
  };
}

export function parseControls(text: string): KbControls {
  const controls = asMap(parseAsGoStrings(text));
  const section = str(controls.type);
  const checks = asList(controls.groups).flatMap((group) =>
    asList(asMap(group).checks).map((check) => parseCheck(check, section)),
  );
  return { id: str(controls.id), section, checks };
}

export function parseAddonConfig(text: string): AddonConfig {
  return asMap(parseAsGoStrings(text)) as AddonConfig;
}

// ---------------------------------------------------------------------------------------------
// Which checks read an args file

/** `$apiserverconf` -> `apiserver` (makeSubstitutions substitutes "$" + component + "conf"). */
function componentOf(variable: string): string {
  const match = /^\$(\w+)conf$/.exec(variable);
  if (!match) throw new Error(`not a conf variable: ${variable}`);
  return match[1]!;
}

/**
 * The args file a conf variable reads on MicroK8s: the entry of the component's `confs` under
 * /var/snap/microk8s/current/args/ in the addon config (in `section` only, when given).
 * `$apiserverconf` -> `kube-apiserver`, `$kubeletconf` -> `kubelet`, `$etcdconf` -> `k8s-dqlite`.
 */
export function argsFileFor(
  variable: string,
  config: AddonConfig = loadKubeBenchReference().addonConfig,
  section?: string,
): string {
  const component = componentOf(variable);
  const sections = section === undefined ? Object.keys(config) : [section];
  const files = new Set<string>();
  for (const name of sections) {
    const confs = asList(asMap(asMap(config[name])[component]).confs).map(str);
    const microk8s = confs.find((conf) => conf.startsWith(MICROK8S_ARGS_DIR));
    if (microk8s) files.add(microk8s.slice(MICROK8S_ARGS_DIR.length));
  }
  if (files.size !== 1) {
    throw new Error(`${variable}: expected one MicroK8s args file in the addon config, found ${[...files].join(', ') || 'none'}`);
  }
  return [...files][0]!;
}

/** What getFiles substitutes when no conf candidate exists: defaultconf, else the component name. */
function missingPathFor(variable: string, config: AddonConfig, section: string): string {
  const component = componentOf(variable);
  return str(asMap(asMap(config[section])[component]).defaultconf) || component;
}

const CAT_AUDIT = /^(?:\/bin\/)?cat (\$\w+conf)(?: \| (?:\/bin\/)?grep (-v )?([\w-]+))?( \|\| true)?$/;

/**
 * Parses an audit that is a plain read of one conf file: `cat $x`, `cat $x | grep -v grep`,
 * `/bin/cat $x | /bin/grep word || true`. Returns null for anything else. grep patterns are limited
 * to letters, digits, '_' and '-', where grep's basic regex is the same as a substring test.
 */
export function parseCatAudit(audit: string): CatAudit | null {
  const match = CAT_AUDIT.exec(audit.trim());
  if (!match) return null;
  const [, variable, invert, pattern, orTrue] = match;
  const filter: CatAudit['filter'] =
    pattern === undefined ? { kind: 'all' } : { kind: invert ? 'drop' : 'keep', pattern };
  return { variable: variable!, filter, orTrue: orTrue !== undefined };
}

/** Why an audit is not a flag check, first rule that matches. */
const NON_FLAG_AUDITS: Array<[RegExp, string]> = [
  [/\bps -ef\b/, 'audit greps the running process list (ps -ef), not an args file'],
  [/\bstat -c\b/, 'audit stats files (permissions or ownership); it reads no flags'],
  [/\bsed\b/, 'audit is a script: it takes a path out of the args file with sed and reads that other file'],
  [/\btest -e\b/, 'audit only tests that files exist'],
  [/\bkubectl\b/, 'audit queries the API server with kubectl'],
];

/** Why a check is not a flag check, in words the comparison test can print. */
function nonFlagReason(check: KbCheck): string {
  if (check.type === 'manual') return 'type: manual: kube-bench reports WARN without running any audit';
  if (check.type === 'skip') return 'type: skip: kube-bench reports INFO without running any audit';
  if (check.audit.trim() === '') return 'no audit command';
  if (!check.tests || check.tests.items.length === 0) return 'no test_items';
  if (check.auditEnv !== '') return 'audit_env: reads environment variables too';
  const rule = NON_FLAG_AUDITS.find(([pattern]) => pattern.test(check.audit));
  return rule ? rule[1] : 'audit is not a plain cat of an args file';
}

function toFlagCheck(check: KbCheck, config: AddonConfig): FlagCheck | null {
  if (check.type === 'manual' || check.type === 'skip' || !check.tests || check.tests.items.length === 0) return null;
  if (check.auditEnv !== '') return null;
  const auditPipeline = parseCatAudit(check.audit);
  if (!auditPipeline) return null;
  const configPipeline = check.auditConfig === '' ? null : parseCatAudit(check.auditConfig);
  // runFlagCheck is given one file's text: both commands must read the same file.
  if (check.auditConfig !== '' && (!configPipeline || configPipeline.variable !== auditPipeline.variable)) return null;
  return {
    ...check,
    tests: check.tests,
    file: argsFileFor(auditPipeline.variable, config, check.section),
    missingPath: missingPathFor(auditPipeline.variable, config, check.section),
    auditPipeline,
    configPipeline,
  };
}

/** Every check of the benchmark, in order, split into flag checks and the rest (with a reason). */
export function classifyChecks(reference: KubeBenchReference = loadKubeBenchReference()): {
  flagChecks: FlagCheck[];
  nonFlagChecks: NonFlagCheck[];
} {
  const flagChecks: FlagCheck[] = [];
  const nonFlagChecks: NonFlagCheck[] = [];
  for (const controls of [...reference.controls].sort((a, b) => Number(a.id) - Number(b.id))) {
    for (const check of controls.checks) {
      const flagCheck = toFlagCheck(check, reference.addonConfig);
      if (flagCheck) flagChecks.push(flagCheck);
      else nonFlagChecks.push({ id: check.id, section: check.section, scored: check.scored, reason: nonFlagReason(check) });
    }
  }
  return { flagChecks, nonFlagChecks };
}

// ---------------------------------------------------------------------------------------------
// The audit command, on text instead of a shell

export interface AuditRun {
  output: string;
  /** The shell's exit status was not 0: runAudit returns an error. */
  failed: boolean;
  error: string;
}

/** grep's view of a text: lines split on \n; a last line without \n is still a line. */
function textLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * What `/bin/sh` prints for the audit (stdout and stderr go to one buffer in runAudit) and whether
 * it exits non-zero. A missing file: cat writes its error to stderr, which is not piped, so it lands
 * in the output as is; grep then reads nothing and exits 1 (unless `|| true`). grep exits 1 when it
 * selects no line at all, e.g. `grep -v grep` on an empty file.
 */
export function runCatAudit(audit: CatAudit, text: string | null, missingPath: string): AuditRun {
  if (text === null) {
    const message = `cat: ${missingPath}: No such file or directory\n`;
    const exitStatus = audit.orTrue ? 0 : 1;
    const error = exitStatus !== 0 ? `exit status ${exitStatus}; ${message.trim()}` : '';
    return { output: message, failed: exitStatus !== 0, error };
  }
  if (audit.filter.kind === 'all') return { output: text, failed: false, error: '' };
  const { kind, pattern } = audit.filter;
  const selected = textLines(text).filter((line) => line.includes(pattern) === (kind === 'keep'));
  const exitStatus = selected.length > 0 || audit.orTrue ? 0 : 1;
  return {
    output: selected.map((line) => `${line}\n`).join(''),
    failed: exitStatus !== 0,
    error: exitStatus !== 0 ? 'exit status 1; grep selected no line' : '',
  };
}

// ---------------------------------------------------------------------------------------------
// Finding a value: flag, path, env

export interface FoundValue {
  found: boolean;
  value: string;
  /** findValue returned an error: evaluate turns the item into a plain failure (failTestItem). */
  error: string;
}

const NOT_FOUND: FoundValue = { found: false, value: '', error: '' };

/**
 * flagTestItem.findValue: strings.Contains(s, flag) anywhere in the output (comments, other flags'
 * names and values included), then the first match of `(` + flag + `)(=|: *)*([^\s]*) *`, the flag
 * put into the regex unescaped as kube-bench does. Go's \s is [\t\n\f\r ], written out here because
 * JavaScript's \s is wider. An empty value reads "true" for a `--` flag (a bare boolean flag), else
 * the flag text itself.
 */
export function findFlagValue(flag: string, s: string): FoundValue {
  if (s === '' || flag === '') return NOT_FOUND;
  if (!s.includes(flag)) return NOT_FOUND;
  const vals = new RegExp(`(${flag})(=|: *)*([^\\t\\n\\f\\r ]*) *`).exec(s);
  if (!vals) return { found: true, value: '', error: `invalid flag in testItem definition: ${s}` };
  if (vals[3]) return { found: true, value: vals[3], error: '' };
  return { found: true, value: flag.startsWith('--') ? 'true' : vals[1]!, error: '' };
}

/** envTestItem.findValue: `ENV=value` up to the end of its line. */
export function findEnvValue(env: string, s: string): FoundValue {
  if (s === '' || env === '') return NOT_FOUND;
  const match = new RegExp(`${env}=.*(?:$|\\n)`).exec(s);
  const value = (match?.[0] ?? '').replace('\n', '').replace(`${env}=`, '');
  return value.length > 0 ? { found: true, value, error: '' } : NOT_FOUND;
}

/** The result of Go's json.Unmarshal, else yaml.v2's Unmarshal, into interface{}; ok false on error. */
type Unmarshalled = { ok: true; value: unknown; numbersAreFloats: boolean } | { ok: false; error: string };

// yaml.v2 (a port of libyaml) decodes only the first document, but its scanner reads a little past
// the root node: the parser peeks one token after it (to end the document), and a scalar that could
// still be a mapping key on the same line makes the scanner fetch one more. An error in those tokens
// fails the whole Unmarshal; anything later is never read. The `yaml` package parses the root node;
// these few functions redo libyaml's scanner for the tokens after it (block context, top level).
// Checked against yaml.v2 2.4.0 on the fixtures and on generated args files.

const isBreakChar = (c: string | undefined) => c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isBlankChar = (c: string | undefined) => c === ' ' || c === '\t';
const isBlankz = (c: string | undefined) => c === undefined || isBlankChar(c) || isBreakChar(c) || c === '\0';

function columnAt(s: string, pos: number): number {
  let start = pos;
  while (start > 0 && !isBreakChar(s[start - 1])) start--;
  return pos - start;
}

function skipBreak(s: string, pos: number): number {
  return s[pos] === '\r' && s[pos + 1] === '\n' ? pos + 2 : pos + 1;
}

type ScanCursor = { pos: number; simpleKeyAllowed: boolean };

/** yaml_parser_scan_to_next_token: spaces, tabs only where a simple key is not allowed, comments, line breaks. */
function scanToNextToken(s: string, from: number, simpleKeyAllowed: boolean): ScanCursor {
  let pos = from;
  let allowed = simpleKeyAllowed;
  for (;;) {
    while (s[pos] === ' ' || (!allowed && s[pos] === '\t')) pos++;
    if (s[pos] === '#') while (pos < s.length && !isBreakChar(s[pos])) pos++;
    if (!isBreakChar(s[pos])) return { pos, simpleKeyAllowed: allowed };
    pos = skipBreak(s, pos);
    allowed = true;
  }
}

const isDocumentMarker = (s: string, pos: number) =>
  columnAt(s, pos) === 0 && (s.startsWith('---', pos) || s.startsWith('...', pos)) && isBlankz(s[pos + 3]);

/**
 * yaml_parser_scan_plain_scalar at the top level (indent 0): where the scanner stops, whether the
 * scalar is on one line, and whether a line break was crossed after its last content.
 */
function scanPlainScalar(s: string, from: number): { mark: number; singleLine: boolean; breakAfter: boolean } {
  let pos = from;
  let lastContent = from;
  let breakAfter = false;
  for (;;) {
    if (isDocumentMarker(s, pos) || s[pos] === '#') break;
    let sawValueIndicator = false;
    while (!isBlankz(s[pos])) {
      if (s[pos] === ':' && isBlankz(s[pos + 1])) {
        sawValueIndicator = true;
        break;
      }
      pos++;
      lastContent = pos;
      breakAfter = false;
    }
    if (sawValueIndicator || !(isBlankChar(s[pos]) || isBreakChar(s[pos]))) break;
    while (isBlankChar(s[pos]) || isBreakChar(s[pos])) {
      if (isBreakChar(s[pos])) {
        pos = skipBreak(s, pos);
        breakAfter = true;
      } else pos++;
    }
  }
  const singleLine = ![...s.slice(from, lastContent)].some(isBreakChar);
  return { mark: pos, singleLine, breakAfter };
}

/** A quoted scalar's end, or -1 when it never closes or (double quotes) has an unknown escape. */
function scanQuotedScalar(s: string, from: number): number {
  const quote = s[from];
  for (let pos = from + 1; pos < s.length; pos++) {
    if (quote === "'" && s[pos] === "'") {
      if (s[pos + 1] === "'") pos++;
      else return pos + 1;
    } else if (quote === '"' && s[pos] === '"') return pos + 1;
    else if (quote === '"' && s[pos] === '\\') {
      const escape = s[pos + 1];
      const hex = escape === 'x' ? 2 : escape === 'u' ? 4 : escape === 'U' ? 8 : 0;
      if (hex > 0 && !new RegExp(`^[0-9A-Fa-f]{${hex}}`).test(s.slice(pos + 2))) return -1;
      if (hex === 0 && !(escape !== undefined && ('0abt\tnvfre "/\\N_LP'.includes(escape) || isBreakChar(escape)))) return -1;
      pos += 1 + hex;
    }
  }
  return -1;
}

/** Where a flow collection opened at `from` closes on the same line (brackets counted), or -1. */
function flowCollectionEnd(s: string, from: number): number {
  let depth = 0;
  for (let pos = from; pos < s.length && !isBreakChar(s[pos]); pos++) {
    if (s[pos] === '[' || s[pos] === '{') depth++;
    else if ((s[pos] === ']' || s[pos] === '}') && --depth === 0) return pos + 1;
  }
  return -1;
}

/** One token of yaml_parser_fetch_next_token: error, or where it ends and whether it may still be a key on its line. */
type Fetched = { error: string } | { end: number; keyCandidate: boolean; simpleKeyAllowed: boolean };

function fetchToken(s: string, pos: number): Fetched {
  const c = s[pos];
  const next = s[pos + 1];
  const atColumn0 = columnAt(s, pos) === 0;
  if (pos >= s.length) return { end: pos, keyCandidate: false, simpleKeyAllowed: true };
  if (atColumn0 && c === '%') {
    const directive = /^%(?:YAML[ \t]+\d+\.\d+|TAG[ \t]+!\S*[ \t]+\S+)/.exec(s.slice(pos));
    if (!directive) return { error: 'found unknown directive name' };
    return { end: pos + directive[0].length, keyCandidate: false, simpleKeyAllowed: false };
  }
  if (isDocumentMarker(s, pos)) return { end: pos + 3, keyCandidate: false, simpleKeyAllowed: false };
  if (c === '[' || c === '{') {
    // A flow collection may be a key too when it closes on its line; its inside is not scanned here.
    const close = flowCollectionEnd(s, pos);
    if (close < 0) return { end: pos + 1, keyCandidate: false, simpleKeyAllowed: false };
    return { end: close, keyCandidate: true, simpleKeyAllowed: false };
  }
  // Block scalars and tags are not emulated further: taken as scanning fine.
  if (']},|>!'.includes(c!)) return { end: pos + 1, keyCandidate: false, simpleKeyAllowed: false };
  if ('-?:'.includes(c!) && isBlankz(next)) return { end: pos + 1, keyCandidate: false, simpleKeyAllowed: true };
  if (c === '*' || c === '&') {
    const name = /^[A-Za-z0-9_-]+/.exec(s.slice(pos + 1))?.[0] ?? '';
    const after = s[pos + 1 + name.length];
    if (name === '' || !(isBlankz(after) || '?:,]}%@`'.includes(after!))) {
      return { error: 'did not find expected alphabetic or numeric character' };
    }
    return { end: pos + 1 + name.length, keyCandidate: true, simpleKeyAllowed: false };
  }
  if (c === "'" || c === '"') {
    const end = scanQuotedScalar(s, pos);
    if (end < 0) return { error: 'bad quoted scalar' };
    return { end, keyCandidate: ![...s.slice(pos, end)].some(isBreakChar), simpleKeyAllowed: false };
  }
  if ('\t%@`#'.includes(c!)) return { error: 'found character that cannot start any token' };
  const plain = scanPlainScalar(s, pos);
  return { end: plain.mark, keyCandidate: plain.singleLine && !plain.breakAfter, simpleKeyAllowed: plain.breakAfter };
}

/** The token the parser peeks after the root node, and the one after it when the first may still be a key. */
function tokensAfterRootFail(s: string, mark: number, simpleKeyAllowed: boolean): string {
  let cursor = { pos: mark, simpleKeyAllowed };
  for (let fetched = 0; fetched < 2; fetched++) {
    const next = scanToNextToken(s, cursor.pos, cursor.simpleKeyAllowed);
    if (next.pos >= s.length) return '';
    const token = fetchToken(s, next.pos);
    if ('error' in token) return token.error;
    if (!token.keyCandidate) return '';
    cursor = { pos: token.end, simpleKeyAllowed: token.simpleKeyAllowed };
  }
  return '';
}

/** The tokens before the root node: directives (which need a `---` after them), `---`, then the root's first token. */
function headTokensFail(s: string): string {
  let cursor = scanToNextToken(s, s.startsWith('\uFEFF') ? 1 : 0, true);
  let sawDirective = false;
  for (;;) {
    const pos = cursor.pos;
    if (pos >= s.length) return sawDirective ? 'did not find expected <document start>' : '';
    if (s[pos] === '%' && columnAt(s, pos) === 0) {
      const directive = fetchToken(s, pos);
      if ('error' in directive) return directive.error;
      sawDirective = true;
      cursor = scanToNextToken(s, directive.end, false);
      continue;
    }
    if (s.startsWith('---', pos) && isDocumentMarker(s, pos)) return tokensAfterRootFail(s, pos + 3, false);
    if (sawDirective) return 'did not find expected <document start>';
    // A document end marker before any content, or a bare ':' key: libyaml's parser rejects both.
    if (s.startsWith('...', pos) && isDocumentMarker(s, pos)) return 'did not find expected node content';
    if (s[pos] === ':' && isBlankz(s[pos + 1])) return 'did not find expected key';
    const first = fetchToken(s, pos);
    return 'error' in first ? first.error : '';
  }
}

/**
 * pathTestItem's unmarshal: JSON first, else YAML as yaml.v2 reads it. An args file
 * `--a=1\n--b=2` is the string "--a=1 --b=2"; `--a=1\n# note\n--b=2` is "--a=1" (the first document
 * ends at the comment); `--a=1\n--b: x`, a tab-indented line where the scanner looks for a token, or
 * an unclosed quote there are errors. Whitespace or comments only: nil.
 */
export function unmarshalLikeGo(s: string): Unmarshalled {
  try {
    return { ok: true, value: JSON.parse(s), numbersAreFloats: true };
  } catch {
    // not JSON: yaml.v2 next, as unmarshal() does
  }
  const head = headTokensFail(s);
  if (head) return { ok: false, error: head };
  const doc = parseAllDocuments(s, { version: '1.1', uniqueKeys: false })[0];
  const root = doc?.contents;
  if (!doc || !root) return { ok: true, value: null, numbersAreFloats: false };
  const [rootStart, rootEnd] = root.range;
  const fatal = doc.errors.find((error) => error.pos[0] < rootEnd);
  if (fatal) return { ok: false, error: fatal.message };
  let tail: string;
  if ((isMap(root) || isSeq(root)) && !root.flow) {
    // A block collection ends at a token left of its column; one at its column but outside it is an error.
    const next = scanToNextToken(s, rootEnd, true);
    if (next.pos >= s.length || isDocumentMarker(s, next.pos)) tail = '';
    else if (columnAt(s, next.pos) < columnAt(s, rootStart)) tail = tokensAfterRootFail(s, rootEnd, true);
    else tail = 'did not find expected key';
  } else if (isScalar(root) && root.type === 'PLAIN') {
    const plain = scanPlainScalar(s, rootStart);
    tail = tokensAfterRootFail(s, plain.mark, plain.breakAfter);
  } else tail = tokensAfterRootFail(s, rootEnd, false);
  if (tail) return { ok: false, error: tail };
  try {
    return { ok: true, value: doc.toJS(), numbersAreFloats: false };
  } catch (error) {
    // e.g. an alias to an unknown anchor, which yaml.v2 rejects too
    return { ok: false, error: String(error) };
  }
}

/** Go's %v for a float64 (shortest digits; exponent form below 1e-4 and from 1e6, e.g. 1e+06). */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

/** fmt.Fprint of a decoded value, as client-go's JSONPath prints a result. */
function printGo(value: unknown, numbersAreFloats: boolean): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    // JSON numbers are float64 in Go; YAML ints stay ints
    return numbersAreFloats || !Number.isInteger(value) ? formatGoFloat(value) : String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => printGo(v, numbersAreFloats)).join(' ')}]`;
  // a map: fmt prints its keys sorted
  const entries = Object.entries(value as YamlMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[${entries.map(([k, v]) => `${k}:${printGo(v, numbersAreFloats)}`).join(' ')}]`;
}

/** Walks `.a.b.c`; a key missing, or a step into a non-map, gives nothing (AllowMissingKeys(true)). */
function lookupFields(root: unknown, fields: string[]): { present: boolean; value: unknown } {
  let current: unknown = root;
  for (const field of fields) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !(field in (current as YamlMap))) {
      return { present: false, value: undefined };
    }
    current = (current as YamlMap)[field];
  }
  return { present: true, value: current };
}

/**
 * executeJSONPath for the two forms the benchmark uses: `{.a.b.c}` and
 * `{range .a[:]}{}{','}{end}` (each element followed by ','). Anything else throws, so a new form in
 * the controls cannot be emulated silently wrong.
 */
export function evalJsonPath(jsonPath: string, root: unknown, numbersAreFloats = false): string {
  if (jsonPath === '') return '';
  const field = /^\{((?:\.[A-Za-z0-9_-]+)+)\}$/.exec(jsonPath);
  if (field) {
    const { present, value } = lookupFields(root, field[1]!.slice(1).split('.'));
    return present ? printGo(value, numbersAreFloats) : '';
  }
  const range = /^\{range ((?:\.[A-Za-z0-9_-]+)+)\[:\]\}\{\}\{'(.*)'\}\{end\}$/.exec(jsonPath);
  if (range) {
    const { present, value } = lookupFields(root, range[1]!.slice(1).split('.'));
    if (!present || !Array.isArray(value)) return '';
    return value.map((element) => `${printGo(element, numbersAreFloats)}${range[2]}`).join('');
  }
  throw new Error(`JSONPath form not emulated: ${jsonPath}`);
}

/** pathTestItem.findValue: found when the JSONPath prints anything at all. */
export function findPathValue(jsonPath: string, s: string): FoundValue {
  const parsed = unmarshalLikeGo(s);
  if (!parsed.ok) return { found: false, value: '', error: `failed to load YAML or JSON from input: ${parsed.error}` };
  const value = evalJsonPath(jsonPath, parsed.value, parsed.numbersAreFloats);
  return { found: value !== '', value, error: '' };
}

// ---------------------------------------------------------------------------------------------
// Comparing

/** strconv.Atoi(strings.TrimSpace(x)): optional sign, decimal digits, within int64. */
function goAtoi(text: string): bigint | null {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) return null;
  const value = BigInt(trimmed);
  return value >= -(2n ** 63n) && value < 2n ** 63n ? value : null;
}

/** strconv.ParseInt(x, 8, 64): optional sign, octal digits, within int64. */
function goParseOctal(text: string): bigint | null {
  const match = /^([+-]?)([0-7]+)$/.exec(text);
  if (!match) return null;
  const value = BigInt(`0o${match[2]}`) * (match[1] === '-' ? -1n : 1n);
  return value >= -(2n ** 63n) && value < 2n ** 63n ? value : null;
}

/** splitAndRemoveLastSeparator: trim, drop trailing commas, split on ',', trim each element. */
export function splitList(text: string): string[] {
  const clean = text.trim().replace(/,+$/, '');
  return clean === '' ? [] : clean.split(',').map((element) => element.trim());
}

/** allElementsValid: both empty is valid; one empty is not; else every element is in the allow-list. */
function allElementsValid(values: string[], allowed: string[]): boolean {
  if (values.length === 0 && allowed.length === 0) return true;
  if (values.length === 0 || allowed.length === 0) return false;
  return values.every((value) => allowed.includes(value));
}

/**
 * compareOp. eq/noteq lowercase the found value only when it is "true"/"false" (the compare value is
 * not lowercased); numbers must be plain decimal integers or the test fails; has/nothave are
 * substring tests, not list membership; an unknown op fails.
 */
export function compareOp(op: string, flagValue: string, compareValue: string): boolean {
  const lower = flagValue.toLowerCase();
  const isBool = lower === 'true' || lower === 'false';
  switch (op) {
    case 'eq':
      return isBool ? lower === compareValue : flagValue === compareValue;
    case 'noteq':
      return isBool ? lower !== compareValue : flagValue !== compareValue;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const a = goAtoi(flagValue);
      const b = goAtoi(compareValue);
      if (a === null || b === null) return false;
      return op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;
    }
    case 'has':
      return flagValue.includes(compareValue);
    case 'nothave':
      return !flagValue.includes(compareValue);
    case 'regex':
      // Go's RE2 syntax; the patterns kube-bench ships mean the same in JavaScript.
      return new RegExp(compareValue).test(flagValue);
    case 'valid_elements':
      return allElementsValid(splitList(flagValue), splitList(compareValue));
    case 'bitmask': {
      const requested = goParseOctal(flagValue);
      const max = goParseOctal(compareValue);
      if (requested === null || max === null) return false;
      return (max & requested) === requested;
    }
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Running a check

type AuditUsed = 'command' | 'config' | 'env';

interface ItemOutcome {
  passed: boolean;
  found: boolean;
  value: string;
}

function findValueFor(item: KbTestItem, used: AuditUsed, s: string): FoundValue {
  if (used === 'env') return findEnvValue(item.env, s);
  if (used === 'config') return findPathValue(item.path, s);
  return findFlagValue(item.flag, s);
}

/** testItem.evaluate on one row: `set` with a compare op compares, `set` alone is presence, `set: false` absence. */
function evaluateRow(item: KbTestItem, used: AuditUsed, s: string): ItemOutcome {
  const { found, value, error } = findValueFor(item, used, s);
  if (error) return { passed: false, found: false, value: '' };
  if (!item.set) return { passed: !found, found, value };
  const passed = found && item.compare.op !== '' ? compareOp(item.compare.op, value, item.compare.value) : found;
  return { passed, found, value };
}

/** testItem.execute: trailing spaces/newlines trimmed; with use_multiple_values, row by row until one fails. */
function executeItem(item: KbTestItem, used: AuditUsed, output: string, multiple: boolean): ItemOutcome {
  const s = output.replace(/[ \n]+$/, '');
  const rows = multiple ? s.split('\n') : [s];
  let outcome: ItemOutcome = { passed: false, found: false, value: '' };
  for (const row of rows) {
    outcome = evaluateRow(item, used, row);
    if (!outcome.passed) break;
  }
  return outcome;
}

interface AuditOutputs {
  command: string;
  config: string;
  env: string;
}

/** Check.execute for one item: the audit output first; audit_config and env only if the flag was not found. */
function runItem(check: FlagCheck, item: KbTestItem, outputs: AuditOutputs): ItemOutcome {
  const multiple = check.useMultipleValues;
  let outcome = executeItem(item, 'command', outputs.command, multiple);
  if (!outcome.found && check.auditConfig !== '' && outputs.config !== '') {
    outcome = executeItem(item, 'config', outputs.config, multiple);
    if (!outcome.found && item.env !== '') outcome = executeItem(item, 'env', outputs.env, multiple);
  }
  if (!outcome.found && item.env !== '') outcome = executeItem(item, 'env', outputs.env, multiple);
  return outcome;
}

function verdict(check: FlagCheck, passed: boolean): KubeBenchStatus {
  if (passed) return 'PASS';
  return check.scored ? 'FAIL' : 'WARN';
}

function gaveUp(check: FlagCheck, reason: string): FlagCheckResult {
  const items = check.tests.items.map((item) => ({ flag: item.flag, found: false, value: '' }));
  return { id: check.id, scored: check.scored, file: check.file, passed: false, status: verdict(check, false), items, reason };
}

/** runAuditCommands: audit_config's file-not-found error is dropped when the audit printed something. */
function runAuditCommands(check: FlagCheck, text: string | null): { outputs: AuditOutputs; error: string } {
  const outputs: AuditOutputs = { command: '', config: '', env: '' };
  const audit = runCatAudit(check.auditPipeline, text, check.missingPath);
  outputs.command = audit.output;
  if (audit.failed) return { outputs, error: `audit failed: ${audit.error}` };
  if (!check.configPipeline) return { outputs, error: '' };
  const config = runCatAudit(check.configPipeline, text, check.missingPath);
  outputs.config = config.output;
  if (!config.failed) return { outputs, error: '' };
  const fileNotFound = /exit status 127|No such file or directory/.test(`${config.error} ${config.output}`);
  if (fileNotFound && outputs.command !== '') return { outputs: { ...outputs, config: '' }, error: '' };
  return { outputs, error: `audit_config failed: ${config.error}` };
}

/** Check.run for a flag check, given the text of its args file (null: the file is missing). */
export function runFlagCheck(check: FlagCheck, text: string | null): FlagCheckResult {
  const { outputs, error } = runAuditCommands(check, text);
  if (error) return gaveUp(check, error);
  const outcomes = check.tests.items.map((item) => runItem(check, item, outputs));
  const binOp = check.tests.binOp;
  if (binOp !== '' && binOp !== 'and' && binOp !== 'or') return gaveUp(check, `unknown binary operator for tests ${binOp}`);
  const passed = binOp === 'or' ? outcomes.some((o) => o.passed) : outcomes.every((o) => o.passed);
  const items = check.tests.items.map((item, i) => ({ flag: item.flag, found: outcomes[i]!.found, value: outcomes[i]!.value }));
  return { id: check.id, scored: check.scored, file: check.file, passed, status: verdict(check, passed), items, reason: '' };
}

/**
 * Every flag check of the benchmark (cis-1.24-microk8s unless told), in check order, against args files by name
 * (`kube-apiserver`, `kubelet`, `k8s-dqlite`, ...). A name mapped to null, or not in the map, is a
 * missing file.
 */
export function runKubeBench(
  files: Record<string, string | null>,
  reference: KubeBenchReference = loadKubeBenchReference(),
): FlagCheckResult[] {
  return classifyChecks(reference).flagChecks.map((check) => runFlagCheck(check, files[check.file] ?? null));
}
