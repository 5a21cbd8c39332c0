/**
 * Copies a bench directory's report, figures and results (without the per-run samples) into docs/results/, and
 * prints the Markdown tables (from the report module, so no number is copied by hand) for docs/RESULTS.md.
 *
 *   node -r @swc-node/register bench/publish.ts runs/paper
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadRuns, moonEffectTable, summaryTables } from '../src/cli/report';

const dir = process.argv[2] ?? 'runs/paper';
const out = path.join(__dirname, '..', 'docs', 'results');
fs.mkdirSync(path.join(out, 'figures'), { recursive: true });
for (const f of fs.readdirSync(path.join(dir, 'figures'))) fs.copyFileSync(path.join(dir, 'figures', f), path.join(out, 'figures', f));
fs.copyFileSync(path.join(dir, 'results.jsonl'), path.join(out, 'paper-results.jsonl'));
fs.copyFileSync(path.join(dir, 'report.md'), path.join(out, 'paper-report.md'));
const results = loadRuns(dir);
const main = results.filter((r) => !r.config.variant);
// The investigation: every run (base, MOON, MOON variants) of a configuration that has variants.
const key = (r: (typeof results)[number]) => [r.config.dataset, r.config.model, r.config.method, r.config.sparsity, r.config.epochs].join('|');
const investigated = new Set(results.filter((r) => r.config.variant).map(key));
const investigation = results.filter((r) => investigated.has(key(r)));
process.stdout.write(`${summaryTables(main)}\n\n#### MOON minus base\n\n${moonEffectTable(main)}\n\n#### Investigation\n\n${moonEffectTable(investigation)}\n`);
