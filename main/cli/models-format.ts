// How the models CLI prints: sizes, durations, one progress line on stderr.
import { formatBytes } from '../models/disk.ts';
import type { PullProgress } from '../models/types.ts';

export { formatBytes };

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressLine(p: PullProgress): string {
  const total = p.totalBytes;
  const pct = total ? `${((100 * p.receivedBytes) / total).toFixed(1).padStart(5)}%` : '     ?';
  const amount = total ? `${formatBytes(p.receivedBytes)} / ${formatBytes(total)}` : formatBytes(p.receivedBytes);
  const speed = p.bytesPerSecond > 0 ? `${formatBytes(Math.round(p.bytesPerSecond))}/s` : '';
  const eta = p.etaSeconds !== null ? `${formatDuration(p.etaSeconds)} left` : '';
  const files = `${p.files.filter((f) => f.state === 'done').length}/${p.files.length} files`;
  return [p.id, p.state, pct, amount, speed, eta, files].filter(Boolean).join('  ');
}

/** Columns padded to the widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
