import { execFileSync } from 'child_process';
import * as path from 'path';

// Issue #22 row 15: the compiled kernels are committed, so the installed package runs no install-time script.

const root = path.join(__dirname, '..');

describe('the committed kernel binary', () => {
  it('is what kernels/sparse-dense.ts compiles to (build-kernels --check)', () => {
    const out = execFileSync(process.execPath, ['scripts/build-kernels.mjs', '--check'], { cwd: root, encoding: 'utf8' });
    expect(out).toMatch(/kernel-binary\.generated\.ts is up to date/);
  }, 60000);

  it('leaves the package without install-time scripts (npm warns about them in every user project)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { scripts } = require('../package.json') as { scripts: Record<string, string> };
    expect(Object.keys(scripts).filter((s) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(s))).toEqual([]);
  });
});
