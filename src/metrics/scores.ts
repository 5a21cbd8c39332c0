import * as tf from '@tensorflow/tfjs';
import { MoonMetricError } from '../errors';

/** What the model's output tensor holds. */
export type OutputKind = 'probabilities' | 'logits';

/** Options shared by every score. */
export interface ScoreOptions {
  /** K, the number of known classes; the output has K columns, or K + 1 with "unknown" last. */
  numClasses: number;
  /** Whether the output holds softmax probabilities (TF.js's usual head, the default) or logits. */
  from?: OutputKind;
}

/** Checks the output shape against numClasses and returns it as a 2-D tensor (the caller's tensor, not a copy). */
function checkOutput(output: tf.Tensor, options: ScoreOptions, scoreName: string): tf.Tensor2D {
  if (!(output instanceof tf.Tensor) || output.rank !== 2) {
    throw new MoonMetricError(`${scoreName} needs a 2-D output tensor [N, K] or [N, K+1], got ${output instanceof tf.Tensor ? `rank ${output.rank}` : typeof output}`);
  }
  if (options === undefined || options === null) throw new MoonMetricError(`${scoreName} needs options: { numClasses: K }`);
  const k = options.numClasses;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new MoonMetricError(`${scoreName}: numClasses must be a positive integer (the number of known classes K), got ${k}`);
  }
  const width = output.shape[1] as number;
  if (k > width) {
    throw new MoonMetricError(
      `${scoreName}: numClasses is ${k} but the output has only ${width} columns; pass the number of known classes K of a [N, K] or [N, K+1] output`,
    );
  }
  const from = options.from ?? 'probabilities';
  if (from !== 'probabilities' && from !== 'logits') {
    throw new MoonMetricError(`${scoreName}: from must be 'probabilities' or 'logits', got ${JSON.stringify(from)}`);
  }
  return output as tf.Tensor2D;
}

/** Softmax probabilities of the whole output (applied only when the output holds logits). */
function probabilities(output: tf.Tensor2D, from: OutputKind | undefined): tf.Tensor2D {
  return (from === 'logits' ? tf.softmax(output) : output) as tf.Tensor2D;
}

/** Log-space values to treat as logits: the logits themselves, or log p (the logits up to a per-row constant). */
function logits(output: tf.Tensor2D, from: OutputKind | undefined): tf.Tensor2D {
  return (from === 'logits' ? output : tf.log(tf.maximum(output, 1e-45))) as tf.Tensor2D;
}

const known = (t: tf.Tensor2D, k: number): tf.Tensor2D => tf.slice(t, [0, 0], [-1, k]);

/**
 * Maximum softmax probability over the first K classes of the full softmax (the "unknown" mass, if any, stays in
 * the denominator): the reference post-processor's score. Higher = more in-distribution.
 */
export function mspScore(output: tf.Tensor, options: ScoreOptions): Float32Array {
  const out = checkOutput(output, options, 'mspScore');
  return tf.tidy(() => tf.max(known(probabilities(out, options.from), options.numClasses), 1).dataSync() as Float32Array);
}

/**
 * Energy score T · logsumexp(z_1..K / T) over the K known logits (Liu et al. 2020; the negative free energy).
 * From probabilities, log p stands in for the logits, which makes the score the log of the known mass (shifted by
 * a per-sample constant: prefer `from: 'logits'` when the model can output them).
 * @param options.temperature T, default 1
 */
export function energyScore(output: tf.Tensor, options: ScoreOptions & { temperature?: number }): Float32Array {
  const out = checkOutput(output, options, 'energyScore');
  const t = options.temperature ?? 1;
  if (typeof t !== 'number' || !(t > 0) || !Number.isFinite(t)) {
    throw new MoonMetricError(`energyScore: temperature must be a positive number, got ${t}`);
  }
  return tf.tidy(() => tf.mul(tf.logSumExp(tf.div(known(logits(out, options.from), options.numClasses), t), 1), t).dataSync() as Float32Array);
}

/** The largest of the K known logits (from probabilities: the largest known log-probability). */
export function maxLogitScore(output: tf.Tensor, options: ScoreOptions): Float32Array {
  const out = checkOutput(output, options, 'maxLogitScore');
  return tf.tidy(() => tf.max(known(logits(out, options.from), options.numClasses), 1).dataSync() as Float32Array);
}

/** 1 − p(unknown), the probability of the K known classes together. Needs a [N, K+1] output. */
export function unknownScore(output: tf.Tensor, options: ScoreOptions): Float32Array {
  const out = checkOutput(output, options, 'unknownScore');
  if (out.shape[1] !== options.numClasses + 1) {
    throw new MoonMetricError(
      `unknownScore needs an "unknown" column: the output has ${out.shape[1]} columns, expected numClasses + 1 = ${options.numClasses + 1}`,
    );
  }
  return tf.tidy(() => {
    const p = probabilities(out, options.from);
    return tf.sub(1, tf.squeeze(tf.slice(p, [0, options.numClasses], [-1, 1]), [1])).dataSync() as Float32Array;
  });
}

/** The names of the built-in scores, for options that pick one. */
export type ScoreName = 'msp' | 'energy' | 'max-logit' | 'unknown';

/** The built-in score called `name`. */
export function scoreByName(name: ScoreName): (output: tf.Tensor, options: ScoreOptions) => Float32Array {
  const scores = { msp: mspScore, energy: energyScore, 'max-logit': maxLogitScore, unknown: unknownScore };
  const score = scores[name];
  if (score === undefined) {
    throw new MoonMetricError(`unknown score ${JSON.stringify(name)}: valid names are ${Object.keys(scores).map((n) => `'${n}'`).join(', ')}`);
  }
  return score;
}
