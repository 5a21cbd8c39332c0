import * as tf from '@tensorflow/tfjs';
import { createMoon, sparsityReport, sparsityReportAsync } from '../src';
import { buildCnn, buildMlp } from './helpers/models';

describe('sparsityReport', () => {
  it('reports a kit: per-layer counts, densities, multiply-adds and bytes', () => {
    const model = buildMlp(1);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, sparsity: 0.9, seed: 1, unknownAware: false, mask: { firstLayerDense: true } });
    const r = sparsityReport(kit);
    expect(r.layers.map((l) => [l.shape, l.total, l.masked])).toEqual([
      [[784, 32], 25088, false],
      [[32, 16], 512, true],
      [[16, 10], 160, true],
    ]);
    expect(r.layers[0].active).toBe(25088); // kept dense
    expect(r.layers.slice(1).map((l) => l.active)).toEqual(kit.masks.map((m) => m.active));
    expect(r.kernelTotal).toBe(25760);
    expect(r.kernelActive).toBe(25088 + kit.masks[0].active + kit.masks[1].active);
    // Dense: in × out multiply-adds per example.
    expect(r.macsDense).toBe(25088 + 512 + 160);
    expect(r.macsSparse).toBe(r.kernelActive);
    expect(r.totalParams).toBe(25760 + 32 + 16 + 10);
    expect(r.activeParams).toBe(r.kernelActive + 58);
    expect(r.overallDensity).toBeCloseTo(r.activeParams / r.totalParams, 12);
    expect(r.denseBytes).toBe(4 * r.totalParams);
  });

  it('reports a bare model by counting nonzero weights, with convolution multiply-adds per output position', () => {
    const model = buildCnn(1);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, sparsity: 0.8, seed: 2, distribution: 'uniform', unknownAware: false });
    const r = sparsityReport(model); // the model alone: its zeros are the kit's masks
    expect(r.layers.map((l) => l.active)).toEqual(kit.masks.map((m) => m.active));
    expect(r.layers.every((l) => !l.masked)).toBe(true);
    // conv1: 3·3·1·8 on 14×14 → 12×12 outputs; conv2: 3·3·8·16, stride 2 'same' on 6×6 → 3×3; dense: 144·10.
    expect(r.layers.map((l) => l.macsDense)).toEqual([72 * 144, 1152 * 9, 1440]);
    expect(r.layers.map((l) => l.macsSparse)).toEqual([kit.masks[0].active * 144, kit.masks[1].active * 9, kit.masks[2].active]);
    expect(r.kernelDensity).toBeCloseTo(0.2, 3);
  });

  it('sparsityReportAsync gives the same report without a synchronous read, for a bare model and a kit', async () => {
    const model = buildCnn(3);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, sparsity: 0.7, seed: 4, unknownAware: false });
    const bare = await sparsityReportAsync(model);
    expect(bare).toEqual(sparsityReport(model));
    expect(bare.layers.map((l) => l.active)).toEqual(kit.maskSummary.map((m) => m.active));
    expect(await sparsityReportAsync(kit)).toEqual(sparsityReport(kit));
    await expect(sparsityReportAsync({} as tf.LayersModel)).rejects.toThrow(/sparsityReportAsync takes a tf.LayersModel or a kit/);
  });

  it('rejects what is neither a model nor a kit', () => {
    expect(() => sparsityReport({} as tf.LayersModel)).toThrow(/takes a tf.LayersModel or a kit/);
  });
});
