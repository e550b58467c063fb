// SIGINT, SIGTERM and SIGHUP while a command changes a node. Caught once for the run (the default of each, which
// ends the process at once, would leave a node half changed), counted, and turned into an AbortSignal that
// the waits listen to; what a signal means (stop before the first write, put back after it, leave on the
// third) is for the command to decide. Nothing here exits: the exit code flows through the normal return path.

export type SignalName = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
export const CAUGHT: readonly SignalName[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** What signals arrive on: the process, or a test's own emitter. */
export interface SignalSource {
  on(name: SignalName, listener: () => void): unknown;
  off(name: SignalName, listener: () => void): unknown;
}

export interface Interrupts {
  /** Aborted by the first signal. */
  readonly signal: AbortSignal;
  /** Signals received so far. */
  count(): number;
  /** The first signal's name, or null. */
  first(): SignalName | null;
  /** Called with the count on every signal after this call. */
  onSignal(listener: (count: number, name: SignalName) => void): void;
  /** Puts the default handlers back. */
  dispose(): void;
}

export function watchInterrupts(source: SignalSource = process): Interrupts {
  const controller = new AbortController();
  const listeners: ((count: number, name: SignalName) => void)[] = [];
  let count = 0;
  let first: SignalName | null = null;
  const handlers = CAUGHT.map((name) => {
    const handler = () => {
      count += 1;
      first ??= name;
      if (!controller.signal.aborted) controller.abort(new Error(`interrupted by ${name}`));
      for (const listener of [...listeners]) listener(count, name);
    };
    source.on(name, handler);
    return { name, handler };
  });
  return {
    signal: controller.signal,
    count: () => count,
    first: () => first,
    onSignal: (listener) => void listeners.push(listener),
    dispose: () => {
      for (const { name, handler } of handlers) source.off(name, handler);
      listeners.length = 0;
    },
  };
}

/** A run that is not watching: no signal ever arrives (tests that drive a change in-process). */
export function noInterrupts(): Interrupts {
  return { signal: new AbortController().signal, count: () => 0, first: () => null, onSignal: () => undefined, dispose: () => undefined };
}
