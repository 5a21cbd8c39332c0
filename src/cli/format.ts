import type { RunResult } from './train';

const pct = (x: number) => (100 * x).toFixed(2);

/** A Markdown table of one or more runs: accuracy, ECE and, per OOD set, AUROC / AUPR-In / AUPR-Out / FPR@95 (in %). */
export function runsTable(results: readonly RunResult[]): string {
  const oodNames = [...new Set(results.flatMap((r) => Object.keys(r.metrics.ood)))];
  const header = ['run', 'accuracy', 'ECE', ...oodNames.flatMap((n) => [`${n} AUROC`, `${n} AUPR-In`, `${n} AUPR-Out`, `${n} FPR@95`]), 'density'];
  const rows = results.map((r) => [
    `${r.config.method}${r.config.method === 'dense' ? '' : ` ${r.config.sparsity}`}${r.config.moon ? ' + MOON' : ''} (seed ${r.config.seed})`,
    pct(r.metrics.accuracy),
    pct(r.metrics.ece),
    ...oodNames.flatMap((n) => {
      const m = r.metrics.ood[n];
      return m ? [pct(m.auroc), pct(m.auprIn), pct(m.auprOut), pct(m.fpr95)] : ['–', '–', '–', '–'];
    }),
    r.density.global.toFixed(4),
  ]);
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
