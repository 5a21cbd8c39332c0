import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { container } from 'tsyringe';
import {
  createMoon, MoonEventBus, MoonRegistryError, registerDistribution, registerSparsifier, SeededRandom, StaticSparsifier,
  TOKENS, UniformDistribution, type MaskUpdateContext, type MaskUpdateEvent,
} from '../src';
import { buildMlp } from './helpers/models';

/** A custom sparsifier: keeps the mask, counts its calls. */
class CountingSparsifier extends StaticSparsifier {
  static calls = 0;
  /** StaticSparsifier says it never changes masks (so the kit would never call it); this one wants every call. */
  override readonly changesMasks = true;
  override updateMask(ctx: MaskUpdateContext): tf.Tensor {
    CountingSparsifier.calls++;
    return super.updateMask(ctx);
  }
}

async function fitOnce(kit: ReturnType<typeof createMoon>, model: tf.Sequential): Promise<void> {
  model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.01)), loss: 'categoricalCrossentropy' });
  const xs = tf.randomNormal([8, 784], 0, 1, 'float32', 1);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10).toFloat();
  await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0, callbacks: [...kit.callbacks] });
  tf.dispose([xs, ys]);
}

// Two steps, an update at each (endStep 2 overrides the default of 75% of the steps).
const base = { numClasses: 10, epochs: 1, stepsPerEpoch: 2, unknownAware: false, mask: { interval: 1, endStep: 2 } } as const;

describe('registries', () => {
  it('uses a custom sparsifier registered globally by name', async () => {
    registerSparsifier('counting-global', CountingSparsifier);
    CountingSparsifier.calls = 0;
    const model = buildMlp();
    const kit = createMoon({ ...base, model, sparsifier: 'counting-global' });
    await fitOnce(kit, model);
    expect(CountingSparsifier.calls).toBe(2 * 3); // updates at steps 1 and 2, three masked layers
  });

  it('uses a sparsifier registered in a user container, which wins over a default of the same name', async () => {
    const mine = container.createChildContainer();
    registerSparsifier('rigl', CountingSparsifier, mine);
    CountingSparsifier.calls = 0;
    const model = buildMlp();
    const kit = createMoon({ ...base, model, sparsifier: 'rigl', container: mine });
    await fitOnce(kit, model);
    expect(CountingSparsifier.calls).toBe(6);
    // The global 'rigl' is untouched: a kit without the container gets the real RigL.
    const other = createMoon({ ...base, model: buildMlp(), sparsifier: 'rigl' });
    expect(other.container.resolve('tfjs-moon:sparsifier:rigl')).not.toBeInstanceOf(CountingSparsifier);
  });

  it('fails on an unknown name, listing the valid names (user-container names included)', () => {
    const mine = container.createChildContainer();
    registerSparsifier('only-here', CountingSparsifier, mine);
    let error: unknown;
    try {
      createMoon({ ...base, model: buildMlp(), sparsifier: 'rigel', container: mine });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MoonRegistryError);
    const err = error as MoonRegistryError;
    expect(err.message).toMatch(/unknown sparsifier "rigel": valid names are .*'rigl'.*'set'.*'static'/);
    expect(err.validNames).toEqual(expect.arrayContaining(['rigl', 'set', 'static', 'only-here']));
    expect(() => createMoon({ ...base, model: buildMlp(), distribution: 'erk2' })).toThrow(/valid names are 'er', 'erk', .*'uniform'/);
  });

  it('uses a custom distribution registered by name', () => {
    class HalfFirst extends UniformDistribution {
      override densities(layers: readonly { size: number }[], density: number): number[] {
        // Same budget, moved: the first layer at 0.9·density, the rest scaled up to compensate.
        const total = layers.reduce((s, l) => s + l.size, 0);
        const rest = (density * total - 0.9 * density * layers[0].size) / (total - layers[0].size);
        return layers.map((_, i) => (i === 0 ? 0.9 * density : rest));
      }
    }
    registerDistribution('half-first', HalfFirst);
    const kit = createMoon({ ...base, model: buildMlp(), distribution: 'half-first', sparsity: 0.8 });
    expect(kit.masks[0].active).toBe(Math.round(0.18 * 784 * 32));
    expect(kit.masks[1].density).toBeCloseTo((0.2 * 25760 - 0.18 * 25088) / 672, 2);
    expect(kit.masks.reduce((s, m) => s + m.active, 0)).toBe(Math.round(0.2 * (784 * 32 + 32 * 16 + 16 * 10)));
  });

  it('rejects a malformed name', () => {
    expect(() => registerSparsifier('', CountingSparsifier)).toThrow(/non-empty string/);
  });
});

describe('composition through DI', () => {
  it('takes the event bus and random source from the user container', async () => {
    const mine = container.createChildContainer();
    const bus = new MoonEventBus();
    mine.register(TOKENS.EventBus, { useValue: bus });
    mine.register(TOKENS.RandomSource, { useValue: new SeededRandom(77) });
    const a = createMoon({ ...base, model: buildMlp(), container: mine, seed: 1 });
    const b = createMoon({ ...base, model: buildMlp(), seed: 77 });
    expect(a.events).toBe(bus);
    expect(a.masks).toEqual(b.masks.map((m, i) => ({ ...m, name: a.masks[i].name, variable: a.masks[i].variable })));
    const events: MaskUpdateEvent[] = [];
    bus.on('mask:update', (e) => events.push(e));
    await fitOnce(a, a.model as tf.Sequential);
    expect(events.length).toBe(6);
  });

  it('gives two kits in one process separate state', async () => {
    const m1 = buildMlp();
    const m2 = buildMlp();
    const k1 = createMoon({ ...base, model: m1, seed: 3 });
    const k2 = createMoon({ ...base, model: m2, seed: 3 });
    expect(k1.events).not.toBe(k2.events);
    expect(k1.container).not.toBe(k2.container);
    const seen: string[] = [];
    k1.events.on('mask:update', () => seen.push('k1'));
    k2.events.on('mask:update', () => seen.push('k2'));
    await fitOnce(k1, m1);
    expect(new Set(seen)).toEqual(new Set(['k1']));
    expect(k2.masks).toEqual(createMoon({ ...base, model: buildMlp(), seed: 3 }).masks.map((m, i) => ({ ...m, name: k2.masks[i].name, variable: k2.masks[i].variable })));
  });
});
