/**
 * The runtimes a user would pick instead of us, on the same weights: onnxruntime-node (native CPU) and
 * onnxruntime-web (wasm SIMD, the instruction set tfjs-wasm uses), both on one thread, beside tfjs's dense model on
 * wasm and tfjs-moon's sparse load (`loadSparse(…, { kernels: 'auto' })`), for LeNet-300-100 and one 4096² layer at
 * 90% (seeded random ERK masks) and batch 1 / 32 / 256. The four runtimes are timed interleaved, repetition by
 * repetition, in one process; every one must give tfjs's dense outputs to 1e-4 before it is timed. ONNX models come
 * from our own small writer (onnx-writer.ts), with the zeros of the sparse kernels stored densely, as a user
 * exporting the model to ONNX would have them.
 *
 * The peers are installed on first use into bench/peers/node_modules (about 440 MB; never by `npm install` or CI):
 *
 *   npm run bench:peers                       # 7 repetitions, both models, batches 1, 32, 256
 *   npm run bench:peers -- --reps 3 --batches 1,32
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadSparse } from '../../src';
import { applyErkMasks, inMemory, lenet, square } from '../helpers/sparse-models';
import { denseChainToOnnx, type OnnxDenseLayer } from './onnx-writer';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const reps = Number(option('reps', '7'));
const batches = option('batches', '1,32,256').split(',').map(Number);

/** The part of onnxruntime's API (common to -node and -web) the benchmark uses. */
interface Ort {
  env: { wasm: { numThreads?: number } };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
  InferenceSession: {
    create(model: Uint8Array, options: Record<string, unknown>): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array }>>; release(): Promise<void> }>;
  };
}

const PEERS_DIR = path.join(__dirname);
const PEER_VERSIONS = JSON.parse(fs.readFileSync(path.join(PEERS_DIR, 'package.json'), 'utf8')).dependencies as Record<string, string>;

/**
 * onnxruntime-node and -web from bench/peers/package.json, installed there on first use. `--ignore-scripts`: the
 * CPU binaries are in the package; its install script only fetches GPU providers (from hosts CI cannot reach).
 */
function loadPeers(): { node: Ort; web: Ort } {
  const require = createRequire(path.join(PEERS_DIR, 'package.json'));
  const installed = Object.keys(PEER_VERSIONS).every((name) => fs.existsSync(path.join(PEERS_DIR, 'node_modules', name, 'package.json')));
  if (!installed) {
    console.error(`bench:peers: installing ${Object.entries(PEER_VERSIONS).map(([n, v]) => `${n}@${v}`).join(', ')} into bench/peers/node_modules (once, about 440 MB)…`);
    execFileSync('npm', ['install', '--prefix', PEERS_DIR, '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock'], { stdio: 'inherit' });
  }
  const web = require('onnxruntime-web') as Ort;
  web.env.wasm.numThreads = 1;
  return { node: require('onnxruntime-node') as Ort, web };
}

/** The model's Dense layers as the ONNX writer takes them (weights read back asynchronously). */
async function denseChain(model: tf.LayersModel): Promise<OnnxDenseLayer[]> {
  const layers: OnnxDenseLayer[] = [];
  for (const layer of model.layers) {
    const [kernel, bias] = layer.getWeights();
    const activation = (layer.getConfig().activation as string | undefined) ?? 'linear';
    if (activation !== 'linear' && activation !== 'relu' && activation !== 'softmax') throw new Error(`bench:peers writes Dense layers with linear, relu or softmax, not ${activation}`);
    layers.push({ inDim: kernel.shape[0], outDim: kernel.shape[1]!, kernel: (await kernel.data()) as Float32Array, bias: bias ? ((await bias.data()) as Float32Array) : undefined, activation });
  }
  return layers;
}

/** One runtime's predict of a fixed batch: resolves when the outputs are on the host. */
type Predict = () => Promise<Float32Array>;

interface Runtime {
  name: string;
  predict: Predict;
  dispose(): Promise<void> | void;
}

function tfjsRuntime(name: string, model: tf.LayersModel, x: tf.Tensor): Runtime {
  return {
    name,
    predict: async () => {
      const y = model.predict(x) as tf.Tensor;
      const values = (await y.data()) as Float32Array;
      y.dispose();
      return values;
    },
    dispose: () => {
      model.dispose();
    },
  };
}

async function ortRuntime(name: string, ort: Ort, onnx: Uint8Array, input: Float32Array, dims: number[]): Promise<Runtime> {
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const feeds = { x: new ort.Tensor('float32', input, dims) };
  return { name, predict: async () => (await session.run(feeds)).y.data, dispose: () => session.release() };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Milliseconds per call over `calls` calls, each awaited (a user's loop), and the process's CPU time over the wall
 * time (about 1 when the runtime really runs on one thread).
 */
async function timeCalls(predict: Predict, calls: number): Promise<{ ms: number; cpuPerWall: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < calls; i++) await predict();
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms: wall / calls, cpuPerWall: (used.user + used.system) / 1000 / wall };
}

interface Row {
  model: string;
  batch: number;
  /** Median milliseconds per predict, per runtime. */
  ms: Record<string, number>;
  /** Per peer: its time over tfjs-moon sparse's (above 1: we are faster), median and range over repetitions. */
  sparseSpeedup: Record<string, { median: number; range: [number, number] }>;
  maxDiff: Record<string, number>;
  /**
   * Per runtime: the median CPU time / wall time of the process over its samples (threads beyond one show above 1;
   * V8's background compiler and garbage collector count too, so even single-threaded wasm reads up to about 2).
   */
  cpuPerWall: Record<string, number>;
}

async function runCase(peers: { node: Ort; web: Ort }, name: string, build: () => tf.LayersModel, batch: number): Promise<Row> {
  const model = build();
  applyErkMasks(model, 0.1, 1);
  const source = await inMemory(model);
  const inDim = model.inputs[0].shape[1]!;
  const input = Float32Array.from(tf.randomNormal([batch, inDim], 0, 1, 'float32', batch).dataSync());
  const x = tf.tensor2d(input, [batch, inDim]);
  const onnx = denseChainToOnnx(await denseChain(model));
  model.dispose();
  const runtimes = [
    tfjsRuntime('tfjs dense (wasm)', await loadSparse(source, { kernels: 'dense' }), x),
    tfjsRuntime('tfjs-moon sparse (wasm)', await loadSparse(source, { kernels: 'auto' }), x),
    await ortRuntime('onnxruntime-node dense', peers.node, onnx, input, [batch, inDim]),
    await ortRuntime('onnxruntime-web dense', peers.web, onnx, input, [batch, inDim]),
  ];
  const reference = await runtimes[0].predict();
  const maxDiff: Record<string, number> = {};
  let slowest = 0;
  for (const r of runtimes) {
    const out = await r.predict();
    maxDiff[r.name] = out.reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i])), 0);
    if (!(maxDiff[r.name] <= 1e-4)) throw new Error(`${r.name} differs from tfjs dense by ${maxDiff[r.name]} on ${name}, batch ${batch}: the ONNX model is not the same model`);
    slowest = Math.max(slowest, (await timeCalls(r.predict, 3)).ms); // warm-up: JIT, packed weights
  }
  const calls = Math.max(1, Math.round(30 / slowest)); // about 30 ms per sample of the slowest runtime
  const times: Record<string, number[]> = Object.fromEntries(runtimes.map((r) => [r.name, []]));
  const cpuSamples: Record<string, number[]> = Object.fromEntries(runtimes.map((r) => [r.name, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const r of runtimes) {
      const sample = await timeCalls(r.predict, calls);
      times[r.name].push(sample.ms);
      cpuSamples[r.name].push(sample.cpuPerWall);
    }
  }
  const sparse = times['tfjs-moon sparse (wasm)'];
  const sparseSpeedup: Row['sparseSpeedup'] = {};
  for (const r of runtimes) {
    if (r === runtimes[1]) continue;
    const ratios = times[r.name].map((t, i) => t / sparse[i]);
    sparseSpeedup[r.name] = { median: +median(ratios).toFixed(2), range: [+Math.min(...ratios).toFixed(2), +Math.max(...ratios).toFixed(2)] };
  }
  const cpuPerWall = Object.fromEntries(runtimes.map((r) => [r.name, +median(cpuSamples[r.name]).toFixed(2)]));
  for (const r of runtimes) await r.dispose();
  x.dispose();
  return { model: name, batch, ms: Object.fromEntries(runtimes.map((r) => [r.name, +median(times[r.name]).toFixed(4)])), sparseSpeedup, maxDiff, cpuPerWall };
}

async function main(): Promise<void> {
  const peers = loadPeers();
  await tf.setBackend('wasm');
  await tf.ready();
  const rows: Row[] = [];
  for (const [name, build] of [['LeNet-300-100, 90% (ERK)', lenet], ['4096² layer, 90%', square(4096)]] as const) {
    for (const batch of batches) {
      console.error(`${name}, batch ${batch}…`);
      rows.push(await runCase(peers, name, build, batch));
      console.error(JSON.stringify(rows.at(-1)));
    }
  }
  const date = new Date().toISOString().slice(0, 10);
  const machine = `${os.cpus().length} × ${os.cpus()[0].model.trim()}`;
  const file = path.join(__dirname, '..', 'results', 'peers-wasm.json');
  const versions = Object.fromEntries(Object.keys(PEER_VERSIONS).map((n) => [n, JSON.parse(fs.readFileSync(path.join(PEERS_DIR, 'node_modules', n, 'package.json'), 'utf8')).version]));
  fs.writeFileSync(file, `${JSON.stringify({ command: `npm run bench:peers -- ${process.argv.slice(2).join(' ')}`.trim(), date, machine, node: process.version, tfjs: tf.version.tfjs, peers: versions, reps, threads: 1, rows }, null, 1)}\n`);
  console.log(`${file}\npredict of one batch, median ms over ${reps} interleaved repetitions, one thread each; ${machine}, Node ${process.version}, tfjs ${tf.version.tfjs}, ${date}`);
  console.log('| model | batch | tfjs dense (wasm) | tfjs-moon sparse (wasm) | onnxruntime-node | onnxruntime-web | sparse vs tfjs dense | vs ORT-node | vs ORT-web |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const speed = (s: Row['sparseSpeedup'][string]) => `${s.median}× [${s.range[0]}–${s.range[1]}]`;
  for (const r of rows) {
    const ms = Object.values(r.ms).map((v) => v.toFixed(3));
    const [dense, node, web] = Object.values(r.sparseSpeedup);
    console.log(`| ${r.model} | ${r.batch} | ${ms.join(' | ')} | ${speed(dense)} | ${speed(node)} | ${speed(web)} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
