import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import type { DetectorMethod, DetectorState } from '../../metrics/detectors/detector-method';
import { classifierHead, disposeHead, forEachFeatureBatch, type ClassifierHead } from './classifier-head';

/** A detector's hyper-parameters: OpenOOD's names (`k`, `percentile`, `temperature`, `gamma`, `m`, `dimensions`, …). */
export type DetectorOptions = Record<string, number | string>;

/** What {@link Detector.toJSON} writes and {@link loadDetector} reads. */
export interface DetectorJSON {
  readonly format: 'tfjs-moon-detector';
  readonly version: 1;
  readonly name: string;
  readonly numClasses: number;
  readonly options: DetectorOptions;
  readonly threshold: number | null;
  readonly state: Record<string, number | { shape: number[]; values: number[] }>;
}

/** The decision of {@link Detector.predict}: a class id per row, or −1 for "unknown", and the scores it used. */
export interface DetectorPrediction {
  readonly labels: Int32Array;
  readonly scores: Float32Array;
}

/**
 * A fitted post-hoc OOD detector on a model: scores (higher = more in-distribution), a threshold calibrated on
 * held-out in-distribution data, and the class-or-unknown decision. Made by `fitDetector` or `loadDetector`; owns
 * its statistics (free them with {@link dispose}). Every read is asynchronous.
 */
export class Detector {
  /** The score threshold of {@link predict}: set by {@link calibrate} (or loaded); undefined before. */
  threshold: number | undefined;

  /** @internal made by fitDetector / loadDetector */
  constructor(
    readonly name: string,
    private readonly method: DetectorMethod<DetectorOptions>,
    readonly model: tf.LayersModel,
    private readonly head: ClassifierHead,
    private readonly state: DetectorState,
    private readonly hostState: DetectorJSON['state'],
    readonly options: Readonly<DetectorOptions>,
    readonly numClasses: number,
    readonly batchSize: number,
  ) {}

  /** One score per row of `x` (higher = more in-distribution), computed in batches. */
  async score(x: tf.Tensor): Promise<Float32Array> {
    return (await this.scoreAndClasses(x, false)).scores;
  }

  /**
   * Sets (and returns) the threshold at which `tpr` of `xInDistribution` scores at or above it (default 95%). Pass
   * **held-out** in-distribution data, never the data the detector or the model was fitted on: their scores are
   * optimistic (KNN's bank holds the training features themselves, at distance 0), so the threshold would let
   * through more OOD than the TPR says.
   */
  async calibrate(xInDistribution: tf.Tensor, options: { tpr?: number } = {}): Promise<number> {
    const tpr = options.tpr ?? 0.95;
    if (!(tpr > 0 && tpr <= 1)) throw new MoonConfigError(`calibrate: tpr must be in (0, 1], got ${tpr}`);
    const scores = await this.score(xInDistribution);
    if (scores.length === 0) throw new MoonConfigError('calibrate needs in-distribution samples: x is empty');
    const sorted = Float64Array.from(scores).sort().reverse();
    this.threshold = sorted[Math.max(0, Math.ceil(tpr * sorted.length) - 1)];
    return this.threshold;
  }

  /** The class (argmax of the K known logits) of each row, or −1 ("unknown") where its score is below the threshold. */
  async predict(x: tf.Tensor): Promise<DetectorPrediction> {
    const threshold = this.threshold;
    if (threshold === undefined) throw new MoonConfigError('predict needs a threshold: call detector.calibrate(xHeldOutInDistribution) first');
    const { scores, classes } = await this.scoreAndClasses(x, true);
    const labels = Int32Array.from(classes!, (c, i) => (scores[i] >= threshold ? c : -1));
    return { labels, scores };
  }

  /** The fitted detector as JSON (statistics, options, threshold); {@link loadDetector} gives it back on the same model. */
  toJSON(): DetectorJSON {
    return { format: 'tfjs-moon-detector', version: 1, name: this.name, numClasses: this.numClasses, options: { ...this.options }, threshold: this.threshold ?? null, state: this.hostState };
  }

  /** Frees the detector's statistics and its copy of the head. */
  dispose(): void {
    tf.dispose(Object.values(this.state).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
    disposeHead(this.head);
  }

  private async scoreAndClasses(x: tf.Tensor, withClasses: boolean): Promise<{ scores: Float32Array; classes?: Int32Array }> {
    const parts = await forEachFeatureBatch(this.model, this.head, x, this.batchSize, (batch) => {
      const scores = this.method.score(batch, this.state, this.head.known, this.options);
      return withClasses ? tf.concat([scores, tf.cast(tf.argMax(batch.logits, 1), 'float32')]) : scores;
    });
    const sizes = parts.map((part) => part.shape[0] / 2); // with classes: each part is [scores, classes]
    const joined = parts.length === 0 ? tf.zeros([0]) : tf.concat(parts);
    tf.dispose(parts);
    const values = (await joined.data()) as Float32Array;
    joined.dispose();
    if (!withClasses) return { scores: Float32Array.from(values) };
    const scores: number[] = [];
    const classes: number[] = [];
    let offset = 0;
    for (const n of sizes) {
      scores.push(...values.subarray(offset, offset + n));
      classes.push(...values.subarray(offset + n, offset + 2 * n));
      offset += 2 * n;
    }
    return { scores: Float32Array.from(scores), classes: Int32Array.from(classes) };
  }
}

/** Everything a detector is made from, as fitDetector and loadDetector gather it. */
export interface DetectorParts {
  readonly name: string;
  readonly method: DetectorMethod<DetectorOptions>;
  readonly model: tf.LayersModel;
  readonly numClasses: number;
  readonly options: DetectorOptions;
  readonly batchSize: number;
}

/** Reads the state's tensors once (asynchronously) so that toJSON needs no read. */
export async function hostCopy(state: DetectorState): Promise<DetectorJSON['state']> {
  const entries = await Promise.all(
    Object.entries(state).map(async ([key, value]) => [key, value instanceof tf.Tensor ? { shape: value.shape.slice(), values: Array.from(await value.data()) } : value] as const),
  );
  return Object.fromEntries(entries);
}

/** The head of `parts.model`, checked against the method's needs. */
export async function headFor(parts: DetectorParts): Promise<ClassifierHead> {
  const head = await classifierHead(parts.model, parts.numClasses);
  if (parts.method.needs.includes('unknown') && !head.unknownAware) {
    disposeHead(head);
    throw new MoonConfigError(`detector "${parts.name}" reads MOON's unknown output: the model needs K + 1 = ${parts.numClasses + 1} outputs, it has ${parts.numClasses}`);
  }
  return head;
}
