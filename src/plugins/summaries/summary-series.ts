import type { MoonEventBus, MoonEventMap } from '../../core/events';

/** One scalar of a run: a name such as `moon/alpha` or `density/dense_1`, a step and a value. */
export interface SummaryScalar {
  readonly name: string;
  readonly step: number;
  readonly value: number;
}

/**
 * Turns a kit's events into named scalars, as TFMOT's `PruningSummaries` does for pruning: α and the learning rate
 * per epoch, each masked layer's density at every mask update or pruning step (step = optimizer step), and the
 * reliability monitor's accuracy, ECE and OOD metrics per epoch. `onScalar` receives each one as it happens.
 * @returns a function that unsubscribes
 */
export function forwardEventsAsScalars(events: MoonEventBus, onScalar: (scalar: SummaryScalar) => void): () => void {
  const off: (() => void)[] = [];
  const on = <E extends keyof MoonEventMap>(name: E, listener: MoonEventMap[E]) => {
    events.on(name, listener as never);
    off.push(() => events.off(name, listener as never));
  };
  on('mask:init', (e) => e.layers.forEach((l) => onScalar({ name: `density/${l.name}`, step: 0, value: l.density })));
  on('mask:update', (e) => onScalar({ name: `density/${e.layer}`, step: e.step, value: e.density }));
  on('mask:prune', (e) => {
    onScalar({ name: `density/${e.layer}`, step: e.step, value: e.density });
    onScalar({ name: 'moon/sparsity', step: e.step, value: e.sparsity });
  });
  on('tuner:alpha', (e) => onScalar({ name: 'moon/alpha', step: e.epoch, value: e.alpha }));
  on('lr:update', (e) => onScalar({ name: 'moon/learning_rate', step: e.epoch, value: e.learningRate }));
  on('reliability:epoch', (e) => {
    onScalar({ name: 'reliability/accuracy', step: e.epoch, value: e.accuracy });
    onScalar({ name: 'reliability/ece', step: e.epoch, value: e.ece });
    for (const [set, metrics] of Object.entries(e.ood)) for (const [metric, value] of Object.entries(metrics)) onScalar({ name: `ood/${set}/${metric}`, step: e.epoch, value });
  });
  return () => off.forEach((f) => f());
}
