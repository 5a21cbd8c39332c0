/**
 * tfjs-moon in the browser: trains LeNet-300-100 at 90% sparsity with MOON on digits 0–5 of MNIST, live (loss, α,
 * per-layer density, and how the MSP score separates test digits 0–5 from unknown digits 6–9), then fits the
 * recommended post-hoc detector on the training digits, calibrates its threshold on held-out digits 0–5 (95% of them
 * kept), and answers a drawn digit with a class or "I don't know", showing its score against the threshold.
 * URL parameters: epochs (default 8), limit (training images, default all), seed (default 1), backend (default webgl),
 * detector (a fitDetector name; default the recommended one).
 */
import * as tf from '@tensorflow/tfjs';
import { accuracyAsync, createMoon, fitDetector, mspScoreAsync, RECOMMENDED_DETECTOR, SeededRandom } from 'tfjs-moon';
import { createCharts } from './charts';
import { createSketchpad } from './sketchpad';

const K = 6;
const params = new URLSearchParams(location.search);
const EPOCHS = Number(params.get('epochs') ?? 8);
const LIMIT = Number(params.get('limit') ?? 0);
const SEED = Number(params.get('seed') ?? 1);
const BATCH = 64;

const $ = (id: string) => document.getElementById(id)!;
const status = (text: string, state = 'training') => {
  $('status').textContent = text;
  document.body.dataset.state = state;
};

/** The 10,000 digits the server sends: 784 bytes per image, and one label byte per image. */
async function loadDigits(): Promise<{ pixels: Uint8Array; labels: Uint8Array }> {
  const [pixels, labels] = await Promise.all(['digits.bin', 'labels.bin'].map(async (f) => new Uint8Array(await (await fetch(f)).arrayBuffer())));
  return { pixels, labels };
}

/**
 * Seeded 80/20 split: digits 0–5 train and test (in-distribution), the test part of digits 6–9 as unknowns. Half of
 * the known test digits calibrate the detector's threshold (never the training digits: their scores are optimistic),
 * the other half are what the charts show.
 */
function split(data: { pixels: Uint8Array; labels: Uint8Array }) {
  const random = new SeededRandom(SEED);
  const order = Array.from(data.labels.keys());
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const cut = Math.floor(0.8 * order.length);
  const known = (i: number) => data.labels[i] < K;
  let train = order.slice(0, cut).filter(known);
  if (LIMIT > 0) train = train.slice(0, LIMIT);
  const heldOut = order.slice(cut).filter(known);
  const calibration = heldOut.filter((_, i) => i % 2 === 0);
  const testId = heldOut.filter((_, i) => i % 2 === 1);
  const testOod = order.slice(cut).filter((i) => !known(i));
  const images = (idx: number[]) => tf.tensor2d(Float32Array.from(idx.flatMap((i) => Array.from(data.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255))), [idx.length, 784]);
  return { xTrain: images(train), yTrain: train.map((i) => data.labels[i]), xCalibration: images(calibration), xId: images(testId), yId: testId.map((i) => data.labels[i]), xOod: images(testOod) };
}

function lenet300100(): tf.Sequential {
  const init = (seed: number) => tf.initializers.heNormal({ seed });
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 300, activation: 'relu', kernelInitializer: init(SEED), name: 'fc1' }),
      tf.layers.dense({ units: 100, activation: 'relu', kernelInitializer: init(SEED + 1), name: 'fc2' }),
      tf.layers.dense({ units: K + 1, activation: 'softmax', kernelInitializer: init(SEED + 2), name: 'out' }),
    ],
  });
}

async function main(): Promise<void> {
  const backend = params.get('backend') ?? 'webgl';
  if (!(await tf.setBackend(backend))) await tf.setBackend('cpu');
  status(`loading digits (backend ${tf.getBackend()})…`, 'loading');
  const data = split(await loadDigits());
  const charts = createCharts($('chart-progress'), $('chart-density'), $('chart-scores'));
  const model = lenet300100();
  const stepsPerEpoch = Math.ceil(data.xTrain.shape[0] / BATCH);
  const kit = createMoon({ model, numClasses: K, epochs: EPOCHS, stepsPerEpoch, sparsity: 0.9, seed: SEED });
  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
  let alpha = 0;
  kit.events.on('tuner:alpha', (e) => (alpha = e.alpha));
  const scoreRows = async () => {
    const [id, ood] = [model.predict(data.xId) as tf.Tensor, model.predict(data.xOod) as tf.Tensor];
    const [idScores, oodScores] = await Promise.all([mspScoreAsync(id, kit), mspScoreAsync(ood, kit)]);
    const accuracy = await accuracyAsync(id, data.yId, { numClasses: K });
    tf.dispose([id, ood]);
    const rows = [...Array.from(idScores, (score) => ({ set: 'digits 0–5 (known)', score })), ...Array.from(oodScores, (score) => ({ set: 'digits 6–9 (unknown)', score }))];
    return { rows, accuracy };
  };
  const onEpochEnd = async (epoch: number, logs?: tf.Logs) => {
    const { rows, accuracy } = await scoreRows();
    await charts.addProgress([{ epoch: epoch + 1, series: 'loss', value: logs?.loss as number }, { epoch: epoch + 1, series: 'α', value: alpha }]);
    await charts.setDensity(kit.maskSummary.map((m) => ({ layer: m.name, density: m.density })));
    await charts.setScores(rows);
    status(`epoch ${epoch + 1}/${EPOCHS}: loss ${(logs?.loss as number).toFixed(3)}, test accuracy ${(100 * accuracy).toFixed(1)}%`);
  };
  status(`training on ${data.xTrain.shape[0]} digits (backend ${tf.getBackend()})…`);
  const y = kit.labels(data.yTrain);
  await model.fit(data.xTrain, y, { epochs: EPOCHS, batchSize: BATCH, callbacks: [...kit.callbacks, new tf.CustomCallback({ onEpochEnd })] });
  await kit.finalize();
  const { accuracy } = await scoreRows();

  // The decision: the recommended detector, fitted on the training digits, its threshold calibrated on held-out ones.
  const name = params.get('detector') ?? RECOMMENDED_DETECTOR.name;
  const options = name === RECOMMENDED_DETECTOR.name ? RECOMMENDED_DETECTOR.options : {};
  status(`fitting the ${name} detector on the training digits…`);
  const detector = await fitDetector(name, { model, x: data.xTrain, labels: data.yTrain, kit, ...options });
  const threshold = await detector.calibrate(data.xCalibration, { tpr: 0.95 });
  const [idScores, oodScores] = [await detector.score(data.xId), await detector.score(data.xOod)];
  const share = (scores: Float32Array) => (100 * scores.filter((s) => s < threshold).length) / scores.length;
  await charts.setScores(
    [...Array.from(idScores, (score) => ({ set: 'digits 0–5 (known)', score })), ...Array.from(oodScores, (score) => ({ set: 'digits 6–9 (unknown)', score }))],
    { title: `${name} score (higher = more familiar)`, threshold },
  );
  $('scores-title').textContent = `The ${name} detector: test digits 0–5 vs unknown 6–9, and the threshold`;
  status(
    `done: ${(100 * kit.density).toFixed(1)}% of the weights active, test accuracy ${(100 * accuracy).toFixed(1)}% (voted weights). ` +
      `The ${name} detector says "I don't know" to ${share(oodScores).toFixed(1)}% of unseen digits 6–9 and ${share(idScores).toFixed(1)}% of test digits 0–5. Draw a digit!`,
    'done',
  );

  const pad = createSketchpad($('pad') as HTMLCanvasElement, async () => {
    const image = pad.image();
    const probabilities = tf.tidy(() => model.predict(image) as tf.Tensor);
    const [p, decision] = await Promise.all([probabilities.data(), detector.predict(image)]);
    tf.dispose([image, probabilities]);
    const known = Array.from(p.subarray(0, K));
    const digit = decision.labels[0];
    $('answer').textContent = digit === -1 ? "I don't know" : `${digit}`;
    const top = known.indexOf(Math.max(...known));
    $('confidence').textContent = `${(100 * known[top]).toFixed(1)}% for ${top}`;
    $('score').textContent = `${decision.scores[0].toFixed(3)} ${decision.scores[0] >= threshold ? '≥' : '<'} ${threshold.toFixed(3)}`;
    $('unknown').textContent = `${(100 * p[K]).toFixed(1)}%`;
    document.body.dataset.predicted = String(Number(document.body.dataset.predicted ?? 0) + 1);
  });
  $('clear').addEventListener('click', () => pad.clear());
}

main().catch((error) => status(`error: ${(error as Error).message}`, 'error'));
