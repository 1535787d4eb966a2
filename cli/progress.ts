/**
 * Progress bars with counts, rate and time left. On a terminal they are drawn by dax-sh; when
 * output is not a terminal (CI, a log file) they print a plain line every tenth of the way.
 *
 * @module
 */
import { formatDuration } from "../report/text.ts";
import $ from "dax";
import type { Progress } from "../core/stage.ts";

/** What a bar shows, as a pure value. */
export interface ProgressState {
  label: string;
  done: number;
  total: number;
  elapsedMs: number;
  note?: string;
}

/** "120/1400 · 12.3/s · 1m44s left · loss 4.12": the text beside the bar. */
export function formatProgress(s: ProgressState): string {
  const rate = s.elapsedMs > 0 ? (s.done * 1000) / s.elapsedMs : 0;
  const parts = [`${s.done}/${s.total}`, `${formatRate(rate)}/s`];
  if (s.done > 0 && s.done < s.total && rate > 0) {
    parts.push(`${formatDuration((s.total - s.done) / rate)} left`);
  } else if (s.done >= s.total) parts.push(`in ${formatDuration(s.elapsedMs / 1000)}`);
  if (s.note) parts.push(s.note);
  return parts.join(" · ");
}

/** 0.4 → "0.40", 12.3 → "12.3", 1234 → "1234". */
function formatRate(rate: number): string {
  return rate >= 100 ? rate.toFixed(0) : rate >= 10 ? rate.toFixed(1) : rate.toFixed(2);
}

/** Starts a bar; `write` receives plain lines when not drawing on a terminal. */
export function startProgress(
  label: string,
  total: number,
  tty: boolean,
  write: (line: string) => void,
): Progress {
  const started = performance.now();
  let done = 0;
  let note: string | undefined;
  let nextLine = total / 10;
  const state = (): ProgressState => ({
    label,
    done,
    total,
    elapsedMs: performance.now() - started,
    note,
  });
  const bar = tty ? $.progress({ prefix: label, length: total }) : undefined;
  return {
    tick(n = 1, text?: string) {
      done = Math.min(total, done + n);
      if (text !== undefined) note = text;
      if (bar) bar.position(done).message(formatProgress(state()));
      else if (done >= nextLine && done < total) {
        write(`${label}: ${formatProgress(state())}`);
        nextLine = done + total / 10;
      }
    },
    done() {
      if (bar) bar.finish();
      write(`${label}: ${formatProgress(state())}`);
    },
  };
}
