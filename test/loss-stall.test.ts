import * as tf from '@tensorflow/tfjs';
import { createMoon, type MaskWarningEvent, type MoonKit } from '../src';
import { mnistSubset } from './helpers/data';
import { buildMlp } from './helpers/models';
import { LossStallWatch } from '../src/plugins/fit/loss-stall';

// Issue #22 row 1: a run whose first epochs do not move the loss says so.

/** Fits 3 epochs of 60 digits (30 steps each) with `learningRate`; returns the loss-stalled warnings and the printed lines. */
async function stalls(learningRate: number, kitOptions: { unknownAware: boolean; listen: boolean; zeroHead: boolean }): Promise<{ events: MaskWarningEvent[]; printed: string[] }> {
  const model = buildMlp(1, kitOptions.unknownAware ? 11 : 10);
  // A zero head predicts uniformly: the loss starts exactly at chance, ln(outputs).
  const head = model.layers[model.layers.length - 1];
  if (kitOptions.zeroHead) head.setWeights(head.getWeights().map((w) => tf.zerosLike(w)));
  const kit: MoonKit = createMoon({ model, numClasses: 10, unknownAware: kitOptions.unknownAware, epochs: 3, stepsPerEpoch: 30, sparsity: 0.9, sparsifier: 'static', seed: 1 });
  const events: MaskWarningEvent[] = [];
  if (kitOptions.listen) kit.events.on('mask:warning', (w) => void (w.kind === 'loss-stalled' && events.push(w)));
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  model.compile({ optimizer: kit.optimizer(tf.train.sgd(learningRate)), loss: kit.loss });
  const { xs, ys } = mnistSubset(6);
  const labels = kit.labels(ys);
  await model.fit(xs, labels, { epochs: 3, batchSize: 2, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
  await new Promise((resolve) => setTimeout(resolve, 0)); // warnings are reported in a microtask
  const printed = warn.mock.calls.map((c) => String(c[0])).filter((line) => line.includes('has not moved'));
  warn.mockRestore();
  kit.dispose();
  tf.dispose([xs, ys, labels]);
  return { events, printed };
}

describe('a loss that stalls at chance in the first epoch (#22 row 1)', () => {
  it('is reported once, as a loss-stalled mask:warning with the first and last batch loss', async () => {
    const { events } = await stalls(0, { unknownAware: false, listen: true, zeroHead: true });
    expect(events).toHaveLength(1);
    const [warning] = events;
    expect(warning.kind === 'loss-stalled' && warning.losses.map((l) => l.toFixed(4))).toEqual([Math.log(10).toFixed(4), Math.log(10).toFixed(4)]);
    expect(warning.message).toMatch(/has not moved in the first epoch \(30 steps: 2\.3026 → 2\.3026\).*ln\(10\) = 2\.3026.*learning rate/);
  });

  it('counts the unknown output in the chance level of a MOON kit, and prints one line when nobody listens', async () => {
    const { printed } = await stalls(0, { unknownAware: true, listen: false, zeroHead: true });
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^tfjs-moon: .*ln\(11\) = 2\.3979/);
  });

  it('stays silent when the loss moves', async () => {
    const { events } = await stalls(0.1, { unknownAware: false, listen: true, zeroHead: false });
    expect(events).toEqual([]);
  });

  it('the watch: silent for a flat loss far from chance (a trained model fine-tuning), for a short first epoch, and once done', async () => {
    const flat = new LossStallWatch(10);
    for (let i = 0; i < 30; i++) flat.record(0.05);
    expect(await flat.verdict()).toBeUndefined();
    expect(flat.wants(0)).toBe(false);
    const single = new LossStallWatch(10);
    for (let i = 0; i < 19; i++) single.record(Math.log(10)); // 19 steps: too few to tell
    expect(await single.verdict()).toBeUndefined();
    expect(new LossStallWatch(10).wants(1)).toBe(false); // a kit resumed past epoch 0 is not watched
    const binary = new LossStallWatch(2);
    for (let i = 0; i < 19; i++) tf.tidy(() => binary.record(tf.scalar(Math.log(2))));
    tf.tidy(() => binary.record(tf.scalar(Math.log(2) * 1.001)));
    expect((await binary.verdict())?.kind).toBe('loss-stalled');
    for (const w of [flat, single, binary]) w.dispose();
  });
});
