import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../core/errors';
import type { MoonEventBus } from '../core/events';
import { forwardEventsAsScalars, type SummaryScalar } from '../plugins/summaries/summary-series';

/** What writes scalars: TensorBoard's summary writer (tfjs-node's `tf.node.summaryFileWriter`) has this shape. */
export interface ScalarWriter {
  scalar(name: string, value: number, step: number): void;
  flush(): void;
}

/** The part of tfjs-vis the browser summaries use (pass the `tfvis` module). */
export interface TfVis {
  render: {
    linechart(container: unknown, data: { values: { x: number; y: number }[][]; series: string[] }, options?: object): Promise<void> | void;
  };
  visor?(): { surface(options: { name: string; tab?: string }): { drawArea: unknown } };
}

/**
 * A callback that writes the kit's summaries — its events as scalars (α, learning rate, per-layer density,
 * reliability) and each epoch's `fit` logs (`fit/loss`, `fit/acc`, …) — to a scalar writer. Put it after the kit's
 * callbacks.
 */
export class ScalarSummaryCallback extends tf.Callback {
  private readonly unsubscribe: () => void;

  constructor(
    events: MoonEventBus,
    private readonly writer: ScalarWriter,
  ) {
    super();
    this.unsubscribe = forwardEventsAsScalars(events, (s) => writer.scalar(s.name, s.value, s.step));
  }

  override async onEpochEnd(epoch: number, logs?: tf.Logs): Promise<void> {
    for (const [key, value] of Object.entries(logs ?? {})) {
      // fit hands callbacks its logs as numbers or, before they are resolved, as scalars: read those without blocking
      const raw = value as unknown;
      const number = raw instanceof tf.Tensor ? (await raw.data())[0] : raw;
      if (typeof number === 'number') this.writer.scalar(`fit/${key}`, number, epoch);
    }
    this.writer.flush();
  }

  /** Stops listening to the kit's events. */
  close(): void {
    this.unsubscribe();
    this.writer.flush();
  }
}

type NodeTf = { node?: { summaryFileWriter(logdir: string): ScalarWriter } };

/**
 * TensorBoard summaries in Node through tfjs-node's summary writer: `tensorboard --logdir <logdir>` shows them.
 * @param nodeTf the `@tensorflow/tfjs-node` (or -gpu) module; default: loaded now, failing with install advice when
 *   it is not installed (tfjs-moon never depends on it)
 */
export function tensorBoardSummaries(events: MoonEventBus, logdir: string, nodeTf?: NodeTf): ScalarSummaryCallback {
  const tfNode = nodeTf ?? loadTfNode();
  if (typeof tfNode?.node?.summaryFileWriter !== 'function') {
    throw new MoonConfigError('TensorBoard summaries need tfjs-node\'s tf.node.summaryFileWriter: pass the @tensorflow/tfjs-node module');
  }
  return new ScalarSummaryCallback(events, tfNode.node.summaryFileWriter(logdir));
}

function loadTfNode(): NodeTf {
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (typeof require === 'function' ? require(name) : undefined) as NodeTf;
    } catch {
      // not installed: try the next
    }
  }
  throw new MoonConfigError(
    'TensorBoard summaries need @tensorflow/tfjs-node (or -gpu), which is not installed: npm install @tensorflow/tfjs-node, ' +
      'or in a browser use visSummaries(kit.events, tfvis)',
  );
}

/**
 * Live charts of the kit's summaries in the browser with tfjs-vis: one line chart per scalar family (moon/…,
 * density/…, reliability/…, ood/…, fit/…), redrawn as values arrive, in tfjs-vis's visor (or `container`).
 * @param tfvis the `@tensorflow/tfjs-vis` module (tfjs-moon does not depend on it)
 */
export function visSummaries(events: MoonEventBus, tfvis: TfVis, container?: unknown): ScalarSummaryCallback {
  const series = new Map<string, Map<string, { x: number; y: number }[]>>();
  const draw = (family: string) => {
    const lines = series.get(family)!;
    const where = container ?? tfvis.visor?.().surface({ name: family, tab: 'tfjs-moon' }).drawArea;
    void tfvis.render.linechart(where, { values: [...lines.values()], series: [...lines.keys()] }, { xLabel: family === 'density' ? 'step' : 'epoch' });
  };
  const writer: ScalarWriter = {
    scalar(name, value, step) {
      const family = name.split('/')[0];
      if (!series.has(family)) series.set(family, new Map());
      const lines = series.get(family)!;
      if (!lines.has(name)) lines.set(name, []);
      lines.get(name)!.push({ x: step, y: value });
      draw(family);
    },
    flush() {},
  };
  return new ScalarSummaryCallback(events, writer);
}

export type { SummaryScalar };
