// Seeded, replayable property runs. Every case of a property gets its own seed, `base + index`, so one
// failing case can be run again alone: HARDEN_PROPERTY_SEED=<its seed> HARDEN_PROPERTY_RUNS=1.
// HARDEN_PROPERTY_RUNS=N runs N cases of each property instead of its default; HARDEN_PROPERTY_SEED=S
// starts from base seed S. A failure names the property, the case's seed, the replay command and the input.

export type Rng = () => number;

/** mulberry32: a small deterministic PRNG; the same seed gives the same sequence everywhere. */
export function makeRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rng: Rng, items: readonly T[] | string): T {
  return items[Math.floor(rng() * items.length)] as T;
}

export function chance(rng: Rng, probability: number): boolean {
  return rng() < probability;
}

/** An integer in [min, max]. */
export function between(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** The items, each kept with the given probability, in their order. */
export function subset<T>(rng: Rng, items: readonly T[], probability: number): T[] {
  return items.filter(() => rng() < probability);
}

export interface Property {
  readonly name: string;
  readonly runs: number;
  readonly seed: number;
}

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name}=${raw}: expected a non-negative integer`);
  return value;
}

/** A property's run count and base seed: its defaults, or HARDEN_PROPERTY_RUNS / HARDEN_PROPERTY_SEED. */
export function property(name: string, defaults: { runs: number; seed: number }): Property {
  return { name, runs: envNumber('HARDEN_PROPERTY_RUNS') ?? defaults.runs, seed: envNumber('HARDEN_PROPERTY_SEED') ?? defaults.seed };
}

/** The seed of case `index`. */
export function caseSeed(prop: Property, index: number): number {
  return (prop.seed + index) >>> 0;
}

/** The seeds of every case, in order. */
export function caseSeeds(prop: Property): number[] {
  return Array.from({ length: prop.runs }, (_, index) => caseSeed(prop, index));
}

const MAX_SHOWN = 1200;

/** The text a failure shows: which property, which seed, how to replay it, and the input. */
export function describeCase(prop: Property, seed: number, input: unknown, suite: string): string {
  let shown = typeof input === 'string' ? JSON.stringify(input) : JSON.stringify(input, null, 1);
  if (shown.length > MAX_SHOWN) shown = `${shown.slice(0, MAX_SHOWN / 2)} … ${shown.slice(-MAX_SHOWN / 2)} (${shown.length} characters)`;
  return [
    `property "${prop.name}" failed at seed ${seed}`,
    `replay: HARDEN_PROPERTY_SEED=${seed} HARDEN_PROPERTY_RUNS=1 node node_modules/uvu/bin.js dist/test '${suite}'`,
    `input: ${shown}`,
  ].join('\n');
}

/**
 * Runs `check` on one case; any failure is re-thrown with the case described at the top of its message
 * (an uvu assertion keeps its diff).
 */
export function withCase<T>(prop: Property, seed: number, input: unknown, suite: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw annotate(error, describeCase(prop, seed, input, suite));
  }
}

export async function withCaseAsync<T>(prop: Property, seed: number, input: unknown, suite: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    throw annotate(error, describeCase(prop, seed, input, suite));
  }
}

function annotate(error: unknown, header: string): Error {
  if (error instanceof Error) {
    error.message = `${header}\n${error.message}`;
    return error;
  }
  return new Error(`${header}\n${String(error)}`);
}

/** Runs a property: `generate` makes case `index`'s input from its own generator, `check` asserts on it. */
export function forAll<T>(prop: Property, suite: string, generate: (rng: Rng, seed: number) => T, check: (input: T, seed: number) => void): void {
  for (const seed of caseSeeds(prop)) {
    const input = generate(makeRng(seed), seed);
    withCase(prop, seed, input, suite, () => check(input, seed));
  }
}

/** forAll for checks that await. */
export async function forAllAsync<T>(prop: Property, suite: string, generate: (rng: Rng, seed: number) => T, check: (input: T, seed: number) => Promise<void>): Promise<void> {
  for (const seed of caseSeeds(prop)) {
    const input = generate(makeRng(seed), seed);
    await withCaseAsync(prop, seed, input, suite, () => check(input, seed));
  }
}
