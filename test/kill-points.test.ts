import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { committedDirectory, writeDirectoryAtomically } from '../src/plugins/atomic-directory';

// Issue #21 §3: a SIGKILL at every file-system step of a directory replacement (exportSparse, kit.checkpoint and
// train --save-model all write through writeDirectoryAtomically) leaves the old or the new copy for the reader,
// complete, and the next write succeeds, cleans up only its own leftovers and touches nothing else.
// The writer runs in a child process whose `fs` kills it (SIGKILL, no cleanup) just before its n-th mutating call;
// a kill at a file write first writes half the bytes, as a torn write would.

const MUTATING = ['mkdirSync', 'openSync', 'writeFileSync', 'fsyncSync', 'closeSync', 'renameSync', 'rmSync', 'rmdirSync', 'unlinkSync'];

/** The child: patches fs, then writes `files` as `dir` through the library's own function (bundled once). */
const CHILD = `
const fs = require('fs');
const killAt = Number(process.env.KILL_AT);
let calls = 0;
for (const name of ${JSON.stringify(MUTATING)}) {
  const original = fs[name];
  fs[name] = function (...args) {
    if (++calls === killAt) {
      if (name === 'writeFileSync' && typeof args[0] === 'number') original.call(fs, args[0], String(args[1]).slice(0, String(args[1]).length >> 1));
      process.kill(process.pid, 'SIGKILL');
    }
    return original.apply(fs, args);
  };
}
const { writeDirectoryAtomically } = require(process.env.BUNDLE);
writeDirectoryAtomically(process.env.DIR, JSON.parse(process.env.FILES));
process.stdout.write(String(calls));
`;

const copy = (tag: string) => ({ 'model.json': JSON.stringify({ tag, pad: tag.repeat(200) }), 'weights.bin': `${tag}-weights-`.repeat(100) });

/** The files of `dir` as the reader finds them (committedDirectory), or undefined when there is none. */
function readCommitted(dir: string): Record<string, string> | undefined {
  const where = committedDirectory(dir);
  if (!fs.existsSync(where)) return undefined;
  return Object.fromEntries(fs.readdirSync(where).sort().map((name) => [name, fs.readFileSync(path.join(where, name), 'utf8')]));
}

describe('SIGKILL at every step of a directory replacement', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-kill-'));
  const bundle = path.join(work, 'atomic-directory.js');
  const child = path.join(work, 'child.js');

  beforeAll(() => {
    const esbuild = path.join(__dirname, '../node_modules/.bin/esbuild');
    execFileSync(esbuild, [path.join(__dirname, '../src/plugins/atomic-directory.ts'), '--bundle', '--platform=node', `--outfile=${bundle}`, '--log-level=error']);
    fs.writeFileSync(child, CHILD);
  });

  const runChild = (dir: string, files: Record<string, string>, killAt: number) =>
    spawnSync(process.execPath, [child], { env: { ...process.env, KILL_AT: String(killAt), BUNDLE: bundle, DIR: dir, FILES: JSON.stringify(files) }, encoding: 'utf8' });

  it('leaves the old or the new copy, complete; the next write restores order and leaves only its own files', () => {
    const [a, b, c] = [copy('A'), copy('B'), copy('C')];
    let points = 0;
    let sawOld = 0;
    let sawNew = 0;
    for (let killAt = 1; ; killAt++) {
      const parent = fs.mkdtempSync(path.join(work, 'case-'));
      const dir = path.join(parent, 'model');
      fs.writeFileSync(path.join(parent, 'neighbour.txt'), 'not ours');
      writeDirectoryAtomically(dir, a);
      const result = runChild(dir, b, killAt);
      if (result.signal !== 'SIGKILL') {
        expect(result.status).toBe(0); // ran to the end: every mutating call was a kill point
        expect(Number(result.stdout)).toBe(killAt - 1);
        expect(readCommitted(dir)).toEqual(b);
        break;
      }
      points++;
      const found = readCommitted(dir);
      expect([a, b]).toContainEqual(found); // never nothing, never a mix, never a torn file
      if (JSON.stringify(found) === JSON.stringify(a)) sawOld++;
      else sawNew++;
      writeDirectoryAtomically(dir, c);
      expect(readCommitted(dir)).toEqual(c);
      expect(fs.readdirSync(parent).sort()).toEqual(['model', 'neighbour.txt']); // our leftovers gone, the rest kept
      expect(fs.readFileSync(path.join(parent, 'neighbour.txt'), 'utf8')).toBe('not ours');
    }
    expect(points).toBeGreaterThanOrEqual(20); // mkdir, 2 × (open, write, fsync, close), 3 directory fsyncs, 2 renames, cleanup
    expect(sawOld).toBeGreaterThan(0);
    expect(sawNew).toBeGreaterThan(0);
    console.log(`kill points: ${points} (old copy read after ${sawOld}, new after ${sawNew})`);
  }, 120000);

  it('a kill during the very first write leaves no folder or a complete one, and a rerun writes it', () => {
    const files = copy('N');
    for (let killAt = 1; killAt < 40; killAt++) {
      const parent = fs.mkdtempSync(path.join(work, 'first-'));
      const dir = path.join(parent, 'model');
      const result = runChild(dir, files, killAt);
      const found = readCommitted(dir);
      if (found !== undefined) expect(found).toEqual(files);
      writeDirectoryAtomically(dir, files);
      expect(readCommitted(dir)).toEqual(files);
      expect(fs.readdirSync(parent)).toEqual(['model']);
      if (result.signal !== 'SIGKILL') break;
    }
  }, 120000);
});
