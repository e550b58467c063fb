// The fix of each failing rule on one node, as `harden plan --only ID` shows it: the same plan (buildPlan with
// that rule alone) in the same words (planText), without its header line. Pure. One difference: the rule's
// result is the whole profile's, so a rule that needs another rule of the profile (`requires`) shows its change,
// where `plan --only ID` alone reports it blocked by the rule it did not select.
import { buildPlan, type PlanInputs } from '../core/plan.js';
import { isReaderCheck } from '../core/reader-check.js';
import { palette } from './color.js';
import { planText } from './plan-view.js';

/** What `buildPlan` needs of a node, and the node's root as the plan's header names it. */
export type RuleFixInputs = PlanInputs & { readonly root: string };

/**
 * By rule id, for every FAIL result of a profile rule: the text `harden plan --only ID` prints after its header
 * (diffs, files to create, modes, prerequisites, risks, the summary line), uncoloured; or, where that plan
 * refuses, its `plan refused: …` line. Args files their reader rejects and cluster agreements are fixed by hand.
 */
export function ruleFixes(inputs: RuleFixInputs): Record<string, string> {
  const fixes: Record<string, string> = {};
  const plain = palette(false);
  const rules = new Map(inputs.rules.map((rule) => [rule.id, rule]));
  for (const result of inputs.results) {
    const rule = rules.get(result.id);
    if (result.status !== 'FAIL' || !rule || isReaderCheck(result.id)) continue;
    const plan = buildPlan({ ...inputs, rules: [rule], results: [result] });
    if (plan.problems.length > 0) {
      fixes[result.id] = plan.problems.map((problem) => `plan refused: rule ${problem.ruleId}: ${problem.text}\n`).join('');
      continue;
    }
    const text = planText(plan, plain, { root: inputs.root, reasons: { [result.id]: result.reason }, selection: true });
    // The header (the profile and root, and the cluster facts when given) ends at the first empty line: node
    // text in it is escaped, so it holds no line break of its own.
    fixes[result.id] = text.slice(text.indexOf('\n\n') + 2);
  }
  return fixes;
}
