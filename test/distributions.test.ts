import { ErdosRenyiDistribution, ErdosRenyiKernelDistribution, UniformDistribution, type LayerShape } from '../src';
import { allocateActiveCounts } from '../src/plugins/distributions/density-distribution';

/** ResNet-18 (CIFAR variant) with an 11-way head, kernels in TF.js layout; the layers of moon-method.md §7.2. */
function resnet18(head = 11): LayerShape[] {
  const layers: LayerShape[] = [];
  const add = (name: string, shape: number[]) => layers.push({ name, shape, size: shape.reduce((p, d) => p * d, 1) });
  add('conv1', [3, 3, 3, 64]);
  for (const b of [0, 1]) for (const c of [1, 2]) add(`layer1.${b}.conv${c}`, [3, 3, 64, 64]);
  let inC = 64;
  for (const [stage, outC] of [[2, 128], [3, 256], [4, 512]] as const) {
    add(`layer${stage}.0.conv1`, [3, 3, inC, outC]);
    add(`layer${stage}.0.conv2`, [3, 3, outC, outC]);
    add(`layer${stage}.0.shortcut`, [1, 1, inC, outC]);
    add(`layer${stage}.1.conv1`, [3, 3, outC, outC]);
    add(`layer${stage}.1.conv2`, [3, 3, outC, outC]);
    inC = outC;
  }
  add('fc', [512, head]);
  return layers;
}

const byName = (layers: LayerShape[], d: number[]) => Object.fromEntries(layers.map((l, i) => [l.name, d[i]]));

describe('ERK (capacity-aware), reference values of moon-method.md §7.2', () => {
  const layers = resnet18();

  it('has the reference total of 11,164,864 masked weights', () => {
    expect(layers.reduce((s, l) => s + l.size, 0)).toBe(11164864);
  });

  it('gives the reference per-layer densities at D = 0.1', () => {
    const d = byName(layers, new ErdosRenyiKernelDistribution().densities(layers, 0.1));
    const expected: Record<string, number> = {
      conv1: 1, 'layer1.0.conv1': 0.479, 'layer2.0.conv1': 0.354, 'layer2.0.conv2': 0.234, 'layer2.0.shortcut': 1,
      'layer3.0.conv1': 0.174, 'layer3.1.conv2': 0.116, 'layer3.0.shortcut': 1, 'layer4.0.conv1': 0.087,
      'layer4.1.conv1': 0.058, 'layer4.0.shortcut': 0.775, fc: 1,
    };
    for (const [name, value] of Object.entries(expected)) expect(d[name]).toBeCloseTo(value, 3);
    // ε = 131.90: layer1's density is ε · (3+3+64+64)/(3·3·64·64).
    expect(d['layer1.0.conv1'] / (134 / 36864)).toBeCloseTo(131.9, 1);
  });

  it('makes dense exactly the reference layers at D = 0.2 and D = 0.05', () => {
    const denseAt = (density: number, head = 11) => {
      const ls = resnet18(head);
      const d = new ErdosRenyiKernelDistribution().densities(ls, density);
      return ls.filter((_, i) => d[i] === 1).map((l) => l.name).sort();
    };
    expect(denseAt(0.2)).toEqual(
      ['conv1', 'fc', 'layer1.0.conv1', 'layer1.0.conv2', 'layer1.1.conv1', 'layer1.1.conv2', 'layer2.0.shortcut', 'layer3.0.shortcut', 'layer4.0.shortcut'].sort(),
    );
    expect(denseAt(0.05)).toEqual(['conv1', 'fc', 'layer2.0.shortcut']);
    const ls101 = resnet18(101);
    const fc101 = new ErdosRenyiKernelDistribution().densities(ls101, 0.05)[ls101.length - 1];
    expect(fc101).toBeCloseTo(0.718, 3);
  });

  it('keeps the global budget: Σ density·size = D·total, and every density ≤ 1', () => {
    for (const D of [0.05, 0.1, 0.2, 0.5]) {
      const d = new ErdosRenyiKernelDistribution().densities(layers, D);
      const used = layers.reduce((s, l, i) => s + d[i] * l.size, 0);
      expect(used / 11164864).toBeCloseTo(D, 12);
      expect(Math.max(...d)).toBeLessThanOrEqual(1);
    }
  });
});

describe('ER and uniform', () => {
  it('ER scales (n_in + n_out)/(n_in·n_out), ignoring the kernel size', () => {
    // Two layers: [3,3,10,20] (raw 30/200 = 0.15) and [40,10] (raw 50/400 = 0.125).
    const layers: LayerShape[] = [
      { name: 'a', shape: [3, 3, 10, 20], size: 1800 },
      { name: 'b', shape: [40, 10], size: 400 },
    ];
    const d = new ErdosRenyiDistribution().densities(layers, 0.2);
    // ε·(0.15·1800 + 0.125·400) = 0.2·2200 → ε = 440/320 = 1.375
    expect(d[0]).toBeCloseTo(1.375 * 0.15, 12);
    expect(d[1]).toBeCloseTo(1.375 * 0.125, 12);
  });

  it('uniform gives every layer the global density', () => {
    expect(new UniformDistribution().densities(resnet18(), 0.1).every((d) => d === 0.1)).toBe(true);
  });
});

describe('allocateActiveCounts', () => {
  it('turns densities into integer counts that sum to round(D·total) exactly', () => {
    const layers = resnet18();
    for (const D of [0.05, 0.1, 0.2]) {
      const d = new ErdosRenyiKernelDistribution().densities(layers, D);
      const counts = allocateActiveCounts(layers, d, D);
      expect(counts.reduce((s, c) => s + c, 0)).toBe(Math.round(D * 11164864));
      counts.forEach((c, i) => {
        expect(Number.isInteger(c)).toBe(true);
        expect(Math.abs(c - d[i] * layers[i].size)).toBeLessThan(1.0001);
        expect(c).toBeLessThanOrEqual(layers[i].size);
      });
    }
  });

  it('hands out the remainder by largest fraction and keeps at least one weight per layer', () => {
    const layers: LayerShape[] = [
      { name: 'a', shape: [10], size: 10 },
      { name: 'b', shape: [10], size: 10 },
      { name: 'c', shape: [10], size: 10 },
    ];
    // Real counts 3.4, 3.3, 3.3 (sum 10): floors 3,3,3, one more to the largest fraction (a).
    expect(allocateActiveCounts(layers, [0.34, 0.33, 0.33], 1 / 3)).toEqual([4, 3, 3]);
    // A layer whose share rounds to 0 still gets 1; the other layer gives it up.
    expect(allocateActiveCounts([{ name: 'x', shape: [1000], size: 1000 }, { name: 'y', shape: [10], size: 10 }], [0.101, 0], 0.1)).toEqual([100, 1]);
  });
});
