// What a health gate waits for, while it waits. On a terminal: one line, rewritten in place (carriage return,
// clear to the end of the line), finished with a newline when the gate ends. Elsewhere (a log, a pipe): one
// line each time what it waits for, or the answer it last got, changes, never one per poll.
import type { GateProgress } from '../effects/health.js';
import { shown } from './terminal-text.js';

export interface ProgressView {
  update(progress: GateProgress): void;
  /** The gate ended: a line rewritten in place is finished. */
  end(): void;
}

/** Rewrites the current terminal line: the only control sequence harden writes besides colours. */
export const REWRITE_LINE = '\r\u001b[K';

/** `after: waiting for kube-apiserver /readyz — 12s of 180s, last: HTTP 500: …`. */
export function progressLine(what: string, progress: GateProgress): string {
  const elapsed = Math.floor(progress.elapsedMs / 1000);
  const limit = Math.round(progress.timeoutMs / 1000);
  return `${what}: waiting for ${shown(progress.waitingFor)} — ${elapsed}s of ${limit}s${progress.last === null ? '' : `, last: ${shown(progress.last)}`}`;
}

export interface ProgressWriter {
  /** The view of one gate, `what` naming it (`before`, `after`, `after put-back`). */
  view(what: string): ProgressView;
  /** A line of its own (a message while a gate waits): a line being rewritten is finished first. */
  note(text: string): void;
}

/** `columns`: the terminal's width when stderr is a terminal, null otherwise. */
export function progressWriter(write: (text: string) => void, columns: number | null): ProgressWriter {
  let open = false;
  const end = () => {
    if (open) write('\n');
    open = false;
  };
  return {
    view: (what) => (columns === null ? lineView(what, write) : {
      update(progress) {
        const line = progressLine(what, progress);
        // Kept within the width: a line that wraps cannot be rewritten in place.
        const width = Math.max(20, columns - 1);
        write(`${REWRITE_LINE}${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
        open = true;
      },
      end,
    }),
    note(text) {
      // On a terminal, a line of its own starts clean: the terminal may have echoed a ^C where the cursor was.
      if (columns !== null && !open) write(REWRITE_LINE);
      end();
      write(text);
    },
  };
}

function lineView(what: string, write: (text: string) => void): ProgressView {
  let seen: string | null = null;
  return {
    update(progress) {
      const state = `${progress.waitingFor}\u0000${progress.last ?? ''}`;
      if (state === seen) return;
      seen = state;
      write(`${progressLine(what, progress)}\n`);
    },
    end() {
      seen = null;
    },
  };
}
