// An args file its consumer cannot read, or would refuse to start with, is a failure of its own in every
// verdict: `file.<name>.reader`, one per args file, beside the profile's rules. Whatever a profile selects, a
// component that does not start (or a file that runs a command as root) is not a node that passes. The same
// error-level findings make plan and apply refuse to edit the file (edit-check.ts): the line is fixed by hand.
import type { Finding } from './finding.js';
import type { NodeModel } from './node.js';
import type { RuleResult } from './evaluate.js';

/** The id of an args file's reader check: `file.kube-apiserver.reader`. */
export function readerCheckId(name: string): string {
  return `file.${name}.reader`;
}

/** Whether a result is an args file's reader check rather than a profile rule's. */
export function isReaderCheck(id: string): boolean {
  return /^file\.[^.]+\.reader$/.test(id);
}

/**
 * What stops a file's consumer from reading it or starting with it: the findings of error level (a reader that
 * fails, a command bash would run, an argument a Kubernetes component refuses, a file that is not a file).
 */
export function blockingFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((finding) => finding.severity === 'error');
}

/**
 * One FAIL per flags file that its running consumer cannot use, in the args dir's order. Files no known
 * component reads, and files of a service MicroK8s keeps off (var/lock/no-…), are not judged. A file that reads
 * cleanly has no result: the check exists where there is something to fix.
 */
export function readerResults(model: NodeModel): RuleResult[] {
  const results: RuleResult[] = [];
  for (const file of model.report.files) {
    if (file.kind !== 'flags' || file.component === null || !file.serviceEnabled) continue;
    const errors = blockingFindings(file.findings);
    if (errors.length === 0) continue;
    const first = errors[0];
    const where = first.line === 0 ? '' : `line ${first.line}: `;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
    const fix = first.line === 0 ? `replace ${file.path} with a regular file` : `fix line ${first.line} of ${file.path} by hand`;
    results.push({
      id: readerCheckId(file.name),
      title: `${file.component} reads args/${file.name} and starts with it`,
      severity: 'high',
      component: file.component,
      status: 'FAIL',
      found: first.line === 0 ? first.code : `${first.code} (line ${first.line})`,
      reason: `${where}${first.code}: ${first.message}${more}; ${fix}, harden does not edit it`,
      cis: [],
      file: file.path,
      line: first.line === 0 ? null : first.line,
    });
  }
  return results;
}
