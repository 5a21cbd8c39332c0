import * as tf from '@tensorflow/tfjs';
import { createMoon, MoonConfigError, tensorBoardSummaries, visSummaries, type MaskUpdateEvent, type ScalarWriter, type TunerAlphaEvent } from '../src';
import { buildMlp } from './helpers/models';

async function trainWith(callback: (kit: ReturnType<typeof createMoon>) => tf.Callback) {
  const model = buildMlp(3, 11);
  const kit = createMoon({ model, numClasses: 10, epochs: 3, stepsPerEpoch: 4, seed: 2, mask: { interval: 2 }, tuner: { warmupEpochs: 1 }, voter: { epochs: 1 } });
  const alphas: TunerAlphaEvent[] = [];
  const updates: MaskUpdateEvent[] = [];
  kit.events.on('tuner:alpha', (e) => alphas.push(e));
  kit.events.on('mask:update', (e) => updates.push(e));
  const x = tf.randomNormal([16, 784], 0, 1, 'float32', 4);
  const y = Array.from({ length: 16 }, (_, i) => i % 10);
  const monitor = kit.monitor({ id: { x, y }, ood: { noise: tf.randomUniform([8, 784], 0, 1, 'float32', 5) } });
  const summaries = callback(kit);
  model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.05)), loss: kit.loss, metrics: ['accuracy'] });
  const history = await model.fit(x, kit.labels(y), { epochs: 3, batchSize: 4, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, monitor, summaries] });
  return { alphas, updates, history, kit };
}

describe('summaries', () => {
  it('TensorBoard: every kit event and every epoch log becomes a scalar with its step', async () => {
    const written: { name: string; value: number; step: number }[] = [];
    let flushes = 0;
    const writer: ScalarWriter = { scalar: (name, value, step) => void written.push({ name, value, step }), flush: () => void flushes++ };
    const { alphas, updates, history, kit } = await trainWith((k) => tensorBoardSummaries(k.events, '/tmp/unused', { node: { summaryFileWriter: () => writer } }));
    const named = (name: string) => written.filter((w) => w.name === name).map(({ step, value }) => ({ step, value }));
    expect(named('moon/alpha')).toEqual(alphas.map((a) => ({ step: a.epoch, value: a.alpha })));
    expect(named('fit/loss')).toEqual((history.history.loss as number[]).map((value, step) => ({ step, value })));
    const layer = kit.maskSummary[0].name;
    expect(named(`density/${layer}`)).toEqual([
      { step: 0, value: kit.maskSummary[0].density }, // mask:init
      ...updates.filter((u) => u.layer === layer).map((u) => ({ step: u.step, value: u.density })),
    ]);
    expect(named('reliability/accuracy')).toHaveLength(3);
    expect(named('ood/noise/auroc')).toHaveLength(3);
    expect(named('moon/learning_rate')).toHaveLength(3);
    expect(flushes).toBe(3);
  });

  it('close() stops writing the kit\'s events, and flushes', () => {
    const kit = createMoon({ model: buildMlp(1, 11), numClasses: 10, epochs: 2, stepsPerEpoch: 1 });
    const written: string[] = [];
    let flushes = 0;
    const callback = tensorBoardSummaries(kit.events, 'logs', { node: { summaryFileWriter: () => ({ scalar: (name) => void written.push(name), flush: () => void flushes++ }) } });
    kit.events.emit('lr:update', { epoch: 0, learningRate: 0.1 });
    callback.close();
    kit.events.emit('lr:update', { epoch: 1, learningRate: 0.1 });
    expect(written).toEqual(['moon/learning_rate']);
    expect(flushes).toBe(1);
  });

  it('TensorBoard without tfjs-node says how to get it', () => {
    const kit = createMoon({ model: buildMlp(1, 11), numClasses: 10, epochs: 2, stepsPerEpoch: 1 });
    expect(() => tensorBoardSummaries(kit.events, 'logs')).toThrow(MoonConfigError);
    expect(() => tensorBoardSummaries(kit.events, 'logs')).toThrow(/npm install @tensorflow\/tfjs-node/);
  });

  it('tfjs-vis: one line chart per family, redrawn with every value', async () => {
    const charts: { series: string[]; values: { x: number; y: number }[][] }[] = [];
    const tfvis = { render: { linechart: (_c: unknown, data: { series: string[]; values: { x: number; y: number }[][] }) => void charts.push(data), barchart: () => undefined } };
    const { alphas } = await trainWith((k) => visSummaries(k.events, tfvis, {}));
    const lastMoon = [...charts].reverse().find((c) => c.series.includes('moon/alpha'))!;
    expect(lastMoon.values[lastMoon.series.indexOf('moon/alpha')]).toEqual(alphas.map((a) => ({ x: a.epoch, y: a.alpha })));
    expect(charts.some((c) => c.series.every((s) => s.startsWith('density/')))).toBe(true);
    expect(charts.some((c) => c.series.includes('fit/loss'))).toBe(true);
  });
});
