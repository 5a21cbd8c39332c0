import * as fs from 'fs';
import * as path from 'path';

// Issue #22 row 14: error classes keep their names in a minified production bundle.

describe('a minified bundle of the package', () => {
  it('keeps every error name, though the bundler renames the classes themselves', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    // Inside the repository, so that the bundle's external packages resolve from node_modules.
    const outfile = path.join(__dirname, '../node_modules/.cache/tfjs-moon-minified', `index-${process.pid}.min.js`);
    fs.mkdirSync(path.dirname(outfile), { recursive: true });
    esbuild.buildSync({ entryPoints: [path.join(__dirname, '../src/index.ts')], bundle: true, minify: true, packages: 'external', platform: 'node', format: 'cjs', outfile, logLevel: 'error' });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require(outfile) as Record<string, new (message: string) => Error> & { createMoon(o: object): unknown };
    const names = ['MoonError', 'MoonConfigError', 'MoonModelError', 'MoonOptimizerError', 'MoonMaskError', 'MoonMetricError', 'MoonCheckpointError', 'MoonTrainingError'];
    expect(names.filter((n) => lib[n].name === n).length).toBeLessThan(names.length); // minification renamed classes
    for (const n of names) {
      const error = new lib[n]('x');
      expect(error.name).toBe(n);
      expect(String(error)).toBe(`${n}: x`);
    }
    expect(new (lib.MoonRegistryError as unknown as new (m: string, valid: string[]) => Error)('x', []).name).toBe('MoonRegistryError');
    let thrown: unknown;
    try {
      lib.createMoon({});
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).name).toBe('MoonConfigError'); // as the library throws it
    // A user's subclass without a name of its own is named after its class.
    class MyError extends (lib.MoonError as unknown as typeof Error) {}
    expect(new MyError('y').name).toBe('MyError');
  }, 60000);
});
