/**
 * Bundling and serving pages for the browser test suite and the demo page: esbuild bundles a page's entry (which
 * imports `tfjs-moon` by name, resolved through the package's own `exports` map to the built ESM entry, as a user's
 * bundler would), and a small static server serves it on 127.0.0.1.
 */
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/**
 * Bundles `entry` for the browser. `tfjs-moon` resolves to this package as it is published (package.json `exports`,
 * `import` condition: dist/esm/index.mjs, which `npm run build:esm` writes), with no bundler configuration.
 */
export async function bundlePage(entry: string): Promise<string> {
  const modules = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-moon-page-'));
  fs.mkdirSync(path.join(modules, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(modules, 'node_modules', 'tfjs-moon'), 'dir');
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2020',
      write: false,
      nodePaths: [path.join(modules, 'node_modules')],
      logLevel: 'warning',
    });
    return result.outputFiles[0].text;
  } finally {
    fs.rmSync(modules, { recursive: true, force: true });
  }
}

/** A static server on 127.0.0.1 for a few in-memory files; `url` ends with '/'. */
export interface PageServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `files` (path → content, '/' → index.html) on 127.0.0.1 at `port` (0: any free port). */
export function servePage(files: Record<string, string | Buffer>, port = 0): Promise<PageServer> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm' };
  const server = http.createServer((request, response) => {
    const name = (request.url ?? '/').split('?')[0];
    const body = files[name === '/' ? '/index.html' : name];
    if (body === undefined) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': types[path.extname(name === '/' ? 'index.html' : name)] ?? 'application/octet-stream' }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${address.port}/`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

/** The Chromium to drive: $CHROMIUM_PATH, or Debian's. Never a downloaded one. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(p));
}

/**
 * Flags for headless Chromium on a machine without a GPU or a network: WebGL on SwiftShader, and no background
 * connections (which a closed network refuses, many at a time).
 */
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];
