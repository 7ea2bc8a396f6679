import cliProgress from 'cli-progress';

/** Formats milliseconds as `1h02m`, `3m05s` or `12.3s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * A terminal progress bar with ETA and running metrics (cli-progress). On a non-TTY stream (CI, pipes)
 * it prints one line per `log()` instead of redrawing.
 */
export class ProgressBar {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly label: string;
  private lastLog = 0;

  constructor(label: string, total: number, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.label = label;
    this.bar = stream.isTTY
      ? new cliProgress.SingleBar(
          {
            format: `${label} [{bar}] {percentage}% {value}/{total} | ETA {eta_formatted} | {metrics}`,
            stream,
            hideCursor: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    this.bar?.start(total, 0, { metrics: '' });
  }

  /** Moves the bar to `value` and shows `metrics` (e.g. `loss 0.41 acc 0.93`). */
  update(value: number, metrics: string, total?: number): void {
    if (this.bar) {
      if (total !== undefined) this.bar.setTotal(total);
      this.bar.update(value, { metrics });
      return;
    }
    const now = Date.now();
    if (now - this.lastLog > 10_000) {
      this.lastLog = now;
      this.stream.write(`${this.label} ${value}${total ? `/${total}` : ''} ${metrics}\n`);
    }
  }

  /** Prints a line above the bar. */
  log(line: string): void {
    if (this.bar) {
      this.bar.stop();
      this.stream.write(`${line}\n`);
      this.bar.start(this.bar.getTotal(), this.bar.getProgress() * this.bar.getTotal(), { metrics: '' });
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
