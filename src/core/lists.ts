// Arrays of any length. A spread into a call (`push(...items)`, `Math.max(...values)`) passes every item as
// an argument on the stack, and a few hundred thousand of them overflow it: a large args file makes arrays
// that long. These loop instead; test/lint/no-call-spread.test.ts keeps spreads out of calls.

/** Appends `items` to `target`, in order; returns `target`. */
export function appendAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** The largest of `values`, or `floor` when there are none or all are smaller. */
export function largest(values: Iterable<number>, floor = -Infinity): number {
  let max = floor;
  for (const value of values) if (value > max) max = value;
  return max;
}
