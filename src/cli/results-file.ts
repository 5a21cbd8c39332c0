import * as fs from 'fs';
import * as path from 'path';
import { CliError } from './cli-error';
import type { RunResult } from './train';

/** The file a bench appends one JSON line per finished run to. */
export const RESULTS_FILE = 'results.jsonl';

/**
 * The runs recorded in `out/results.jsonl` (none when it does not exist). A last line without its newline is an
 * interrupted append (a full disk, a kill): it is reported and skipped, so that run counts as not done; with
 * `repair` (the bench, which owns the file) it is also cut off, so the next append starts on a line of its own.
 * Any other line that is not JSON is a usage error naming it: the file was edited or damaged.
 */
export function readResults(out: string, repair = false): RunResult[] {
  const file = path.join(out, RESULTS_FILE);
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  if (complete.length < text.length) {
    process.stderr.write(`tfjs-moon: the last line of ${file} is incomplete (an interrupted write): ignored${repair ? ', cut off, and its run will be run again' : ''}\n`);
    if (repair) fs.truncateSync(file, Buffer.byteLength(complete));
  }
  return complete.split('\n').flatMap((line, i) => {
    if (!line.trim()) return [];
    try {
      return [JSON.parse(line) as RunResult];
    } catch {
      throw new CliError(`line ${i + 1} of ${file} is not JSON: the file was edited or damaged; fix or delete that line`, 2);
    }
  });
}
