import * as fs from 'fs';
import * as path from 'path';

/**
 * The layering of docs/architecture.md, checked on the source: every relative import of a module in src/ goes to
 * its own layer or one below. (cli/ is an application on top; it imports the package by name.)
 */
const LAYERS = ['index', 'kit', 'config', 'callbacks', 'plugins', 'metrics', 'core'] as const;
type Layer = (typeof LAYERS)[number];

const SRC = path.join(__dirname, '..', 'src');

function layerOf(file: string): Layer | 'cli' {
  const rel = path.relative(SRC, file).split(path.sep);
  if (rel.length === 1) return 'index';
  if (rel[0] === 'cli') return 'cli';
  if (!(LAYERS as readonly string[]).includes(rel[0])) throw new Error(`${file} is in no layer of docs/architecture.md`);
  return rel[0] as Layer;
}

/** kit and config are one layer (the kit reads its settings; settings never build a kit). */
const rank = (layer: Layer) => (layer === 'config' ? LAYERS.indexOf('kit') : LAYERS.indexOf(layer));

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
}

function relativeImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import|require\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => path.resolve(path.dirname(file), m[1]));
}

describe('architecture', () => {
  const files = sources(SRC);

  it('finds the layers', () => {
    const seen = new Set(files.map(layerOf));
    expect([...seen].sort()).toEqual(['callbacks', 'cli', 'config', 'core', 'index', 'kit', 'metrics', 'plugins']);
  });

  it('has no import running up the layers', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      if (from === 'cli') continue;
      for (const target of relativeImports(file)) {
        const to = layerOf(target.endsWith('.ts') ? target : `${target}.ts`);
        if (to === 'cli' || rank(to) < rank(from)) upward.push(`${path.relative(SRC, file)} → ${path.relative(SRC, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keeps the command line on the public API (or its own files)', () => {
    const reaching = files
      .filter((f) => layerOf(f) === 'cli')
      .flatMap((f) => relativeImports(f).filter((t) => layerOf(`${t}.ts`) !== 'cli').map((t) => `${path.relative(SRC, f)} → ${path.relative(SRC, t)}`));
    expect(reaching).toEqual([]);
  });
});
