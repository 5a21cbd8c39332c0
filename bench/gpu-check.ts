/**
 * The GPU check, for a machine with a GPU: trains the same MNIST-6 run (LeNet-300-100, RigL 90%, MOON) on webgpu —
 * Vulkan through the GPU's driver, via Dawn — and on wasm, alternating, and prints the adapter, seconds per epoch
 * on each, their ratio, the density and the accuracy of each run.
 *
 *   npm run gpu-check                                   # 3 epochs, model mlp; add -- --model lenet5 --epochs 5
 *   VK_DRIVER_FILES=/usr/share/vulkan/icd.d/nvidia_icd.json npm run gpu-check   # if Dawn finds no adapter
 *
 * On a machine without a GPU, Dawn may find only a software adapter (lavapipe): the check says so, and its numbers
 * are then not a GPU's.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { RunResult } from '../src/cli/train';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

function train(backend: string, out: string, epochs: string, model: string): RunResult {
  execFileSync(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, '..', 'src', 'cli', 'main.ts'), 'train', '--backend', backend,
    '--epochs', epochs, '--model', model, '--out', out, '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? out } });
  return JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResult;
}

function main(): void {
  const epochs = option('epochs', '3');
  const model = option('model', 'mlp');
  const root = path.join('runs', 'gpu-check');
  fs.mkdirSync(root, { recursive: true });
  const webgpu = train('webgpu', path.join(root, 'webgpu'), epochs, model);
  const wasm = train('wasm', path.join(root, 'wasm'), epochs, model);
  const row = (r: RunResult) => `| ${r.environment.backend} | ${r.secondsPerEpoch.toFixed(2)} | ${r.density.global.toFixed(3)} | ${(100 * r.metrics.accuracy).toFixed(2)} |`;
  console.log(`GPU check: mnist6, ${model}, rigl 0.9 + MOON, ${epochs} epochs, seed 1; ${webgpu.environment.machine}; ${webgpu.environment.date}`);
  console.log('| backend (adapter) | s / epoch | density | accuracy % |\n| --- | --- | --- | --- |');
  console.log(row(webgpu));
  console.log(row(wasm));
  console.log(`webgpu / wasm seconds per epoch: ${(webgpu.secondsPerEpoch / wasm.secondsPerEpoch).toFixed(2)}`);
  if (/fallback/.test(webgpu.environment.backend)) console.log('note: Dawn ran on a software fallback adapter, not a GPU: these are not GPU figures');
}

main();
