/**
 * Copies a bench directory's report, figures and results (without the per-run samples) into docs/results/<name>/, and
 * prints the Markdown tables for docs/RESULTS.md (from the report module, so no number is copied by hand).
 *
 *   node -r @swc-node/register bench/publish.ts runs/paper-v2 v2
 *   node -r @swc-node/register bench/publish.ts runs/detectors detectors   # with the detector tables
 *
 * A label tag that every run carries (e.g. `kernels-auto`, which changes speed only) is left out of the printed
 * labels and named once above the tables instead.
 */
import * as fs from 'fs';
import * as path from 'path';
import { knownMassEffectTable, loadRuns, mechanismTable, moonEffectTable, summaryTables } from '../src/cli/report';
import { extraTags } from '../src/cli/run-id';
import { detectorTables, moonBestTable, sparsityEffectTable } from '../src/cli/detector-report';

const [dir = 'runs/paper-v2', name = 'v2'] = process.argv.slice(2);
const out = path.join(__dirname, '..', 'docs', 'results', name);
fs.mkdirSync(path.join(out, 'figures'), { recursive: true });
for (const f of fs.readdirSync(path.join(dir, 'figures'))) fs.copyFileSync(path.join(dir, 'figures', f), path.join(out, 'figures', f));
fs.copyFileSync(path.join(dir, 'results.jsonl'), path.join(out, 'results.jsonl'));
fs.copyFileSync(path.join(dir, 'report.md'), path.join(out, 'report.md'));

const results = loadRuns(dir);
const common = extraTags(results[0].config).filter((tag) => results.every((r) => extraTags(r.config).includes(tag)));
const strip = (markdown: string) => common.reduce((text, tag) => text.split(` ${tag}`).join(''), markdown);
const sections: Array<[string, string]> = [
  ['Runs', summaryTables(results)],
  ['MOON minus base (MSP)', moonEffectTable(results)],
  ['The unknown output', mechanismTable(results)],
  ['Known mass minus base MSP', knownMassEffectTable(results)],
  ['Known mass minus base energy (linear heads)', knownMassEffectTable(results, 'energy')],
  ...(results.some((r) => r.metrics.detectors)
    ? ([['Post-hoc detectors', detectorTables(results)], ['Sparse minus dense, per detector', sparsityEffectTable(results)], ['MOON + best detector minus dense + best', moonBestTable(results)]] as Array<[string, string]>)
    : []),
];
process.stdout.write(`${results.length} runs; every run carries: ${common.join(', ') || '(nothing)'}\n\n`);
for (const [title, table] of sections) process.stdout.write(`#### ${title}\n\n${strip(table)}\n\n`);
process.stderr.write(`copied to ${path.relative(process.cwd(), out)}/: results.jsonl, report.md, figures/\n`);
