import * as tf from '@tensorflow/tfjs';
import { MoonMetricError } from '../core/errors';
import type { OutputKind, OutputSource } from '../core/types';
import { requireInteger, requireName, requireOneOf, requirePositive } from '../core/validate';

export type { OutputKind, OutputSource } from '../core/types';

/** Options shared by every score. */
export interface ScoreOptions {
  /** K, the number of known classes; the output has K columns, or K + 1 with "unknown" last. */
  numClasses: number;
  /** Whether the output holds softmax probabilities (TF.js's usual head, the default) or logits. */
  from?: OutputKind;
}

/** Score options from either form: `{ numClasses, from }`, or a kit (its numClasses and detected output kind). */
function scoreOptions<T extends object>(options: (ScoreOptions | OutputSource) & T): ScoreOptions & T {
  if (options !== null && typeof options === 'object' && 'outputKind' in options && !('from' in options)) {
    return { ...options, from: options.outputKind };
  }
  return options as ScoreOptions & T;
}

/** Outputs of probabilities are checked to be in [0, 1] with rows summing to 1 within this tolerance. */
const ROW_SUM_TOLERANCE = 1e-3;

/** A score computed on the device, not yet read: its N values, then (for probabilities) three check statistics. */
interface PendingScores {
  readonly values: tf.Tensor | undefined;
  readonly n: number;
  readonly checked: boolean;
  readonly scoreName: string;
}

/**
 * Runs `compute` on the output; for probabilities it appends three statistics (min, max, largest row-sum deviation
 * from 1), read in the same transfer as the scores, so logits passed as probabilities (the default) fail instead of
 * giving meaningless scores.
 */
function computeScores(out: tf.Tensor2D, options: ScoreOptions, scoreName: string, compute: () => tf.Tensor): PendingScores {
  const n = out.shape[0];
  const checked = (options.from ?? 'probabilities') === 'probabilities';
  if (n === 0) return { values: undefined, n, checked, scoreName };
  const values = tf.tidy(() => {
    const scores = compute();
    if (!checked) return scores;
    const rowSumDeviation = tf.max(tf.abs(tf.sub(tf.sum(out, 1), 1)));
    return tf.concat([scores, tf.stack([tf.min(out), tf.max(out), rowSumDeviation])]);
  });
  return { values, n, checked, scoreName };
}

/** The scores from what was read, after the probability check; frees the device copy. */
function finishScores(pending: PendingScores, data: Float32Array | undefined): Float32Array {
  pending.values?.dispose();
  if (data === undefined) return new Float32Array(0);
  if (!pending.checked) return data;
  const [lo, hi, deviation] = data.subarray(pending.n);
  if (!(lo >= -1e-6 && hi <= 1 + 1e-6 && deviation <= ROW_SUM_TOLERANCE)) {
    const name = pending.scoreName;
    throw new MoonMetricError(
      `${name}: the output does not hold probabilities (values in [${lo}, ${hi}], a row sum off 1 by ${deviation}): ` +
        `pass from: 'logits' for a linear head, or the kit, ${name}(output, kit), so that the output kind comes from it`,
    );
  }
  return data.slice(0, pending.n);
}

/** Reads pending scores synchronously (fails on backends without synchronous reads, e.g. WebGPU in Node). */
function readSync(pending: PendingScores): Float32Array {
  return finishScores(pending, pending.values?.dataSync() as Float32Array | undefined);
}

/** Reads pending scores without blocking: works on every backend. */
async function readAsync(pending: PendingScores): Promise<Float32Array> {
  const data = pending.values === undefined ? undefined : ((await pending.values.data()) as Float32Array);
  return finishScores(pending, data);
}

/** Checks the output shape against numClasses and returns it as a 2-D tensor (the caller's tensor, not a copy). */
function checkOutput(output: tf.Tensor, options: ScoreOptions, scoreName: string): tf.Tensor2D {
  if (!(output instanceof tf.Tensor) || output.rank !== 2) {
    throw new MoonMetricError(`${scoreName} needs a 2-D output tensor [N, K] or [N, K+1], got ${output instanceof tf.Tensor ? `rank ${output.rank}` : typeof output}`);
  }
  if (options === undefined || options === null) throw new MoonMetricError(`${scoreName} needs options: { numClasses: K }`);
  const k = requireInteger(`${scoreName}: numClasses`, options.numClasses, 1, 'the number of known classes K', MoonMetricError);
  const width = output.shape[1] as number;
  if (k > width) {
    throw new MoonMetricError(
      `${scoreName}: numClasses is ${k} but the output has only ${width} columns; pass the number of known classes K of a [N, K] or [N, K+1] output`,
    );
  }
  requireOneOf(`${scoreName}: from`, options.from ?? 'probabilities', ['probabilities', 'logits'] as const, MoonMetricError);
  return output as tf.Tensor2D;
}

/**
 * The model's output as probabilities: softmax over the whole output when it holds logits, the output itself when
 * it holds probabilities. The one place where an output kind becomes probabilities (scores, the monitor, the loss).
 */
export function probabilitiesFrom<T extends tf.Tensor>(output: T, from: OutputKind | undefined): T {
  return (from === 'logits' ? tf.softmax(output) : output) as T;
}

/** Log-space values to treat as logits: the logits themselves, or log p (the logits up to a per-row constant). */
function logits(output: tf.Tensor2D, from: OutputKind | undefined): tf.Tensor2D {
  return (from === 'logits' ? output : tf.log(tf.maximum(output, 1e-45))) as tf.Tensor2D;
}

const known = (t: tf.Tensor2D, k: number): tf.Tensor2D => tf.slice(t, [0, 0], [-1, k]);

/** One score's computation on a checked output (it may check more first, naming the score in its errors). */
type ScoreDefinition<O extends ScoreOptions> = (out: tf.Tensor2D, options: O, scoreName: string) => () => tf.Tensor;

/** The one path of every score: options (or a kit), the shape check, then the computation and its probability check. */
function pendingScores<O extends object>(
  definition: ScoreDefinition<ScoreOptions & O>,
  output: tf.Tensor,
  options: (ScoreOptions | OutputSource) & O,
  scoreName: string,
): PendingScores {
  const o = scoreOptions(options);
  const out = checkOutput(output, o, scoreName);
  return computeScores(out, o, scoreName, definition(out, o, scoreName));
}

const MSP: ScoreDefinition<ScoreOptions> = (out, o) => () => tf.max(known(probabilitiesFrom(out, o.from), o.numClasses), 1);

/**
 * Maximum softmax probability over the first K classes of the full softmax (the "unknown" mass, if any, stays in
 * the denominator): the reference post-processor's score. Higher = more in-distribution.
 */
export function mspScore(output: tf.Tensor, options: ScoreOptions | OutputSource): Float32Array {
  return readSync(pendingScores(MSP, output, options, 'mspScore'));
}

/** {@link mspScore} without a synchronous read (any backend, WebGPU included). */
export function mspScoreAsync(output: tf.Tensor, options: ScoreOptions | OutputSource): Promise<Float32Array> {
  return readAsync(pendingScores(MSP, output, options, 'mspScoreAsync'));
}

const ENERGY: ScoreDefinition<ScoreOptions & { temperature?: number }> = (out, o, name) => {
  const t = requirePositive(`${name}: temperature`, o.temperature ?? 1, '', MoonMetricError);
  return () => tf.mul(tf.logSumExp(tf.div(known(logits(out, o.from), o.numClasses), t), 1), t);
};

/**
 * Energy score T · logsumexp(z_1..K / T) over the K known logits (Liu et al. 2020; the negative free energy).
 * From probabilities, log p stands in for the logits, which makes the score the log of the known mass (shifted by
 * a per-sample constant: prefer `from: 'logits'` when the model can output them).
 * @param options.temperature T, default 1
 */
export function energyScore(output: tf.Tensor, options: (ScoreOptions | OutputSource) & { temperature?: number }): Float32Array {
  return readSync(pendingScores(ENERGY, output, options, 'energyScore'));
}

/** {@link energyScore} without a synchronous read (any backend, WebGPU included). */
export function energyScoreAsync(output: tf.Tensor, options: (ScoreOptions | OutputSource) & { temperature?: number }): Promise<Float32Array> {
  return readAsync(pendingScores(ENERGY, output, options, 'energyScoreAsync'));
}

const MAX_LOGIT: ScoreDefinition<ScoreOptions> = (out, o) => () => tf.max(known(logits(out, o.from), o.numClasses), 1);

/** The largest of the K known logits (from probabilities: the largest known log-probability). */
export function maxLogitScore(output: tf.Tensor, options: ScoreOptions | OutputSource): Float32Array {
  return readSync(pendingScores(MAX_LOGIT, output, options, 'maxLogitScore'));
}

/** {@link maxLogitScore} without a synchronous read (any backend, WebGPU included). */
export function maxLogitScoreAsync(output: tf.Tensor, options: ScoreOptions | OutputSource): Promise<Float32Array> {
  return readAsync(pendingScores(MAX_LOGIT, output, options, 'maxLogitScoreAsync'));
}

const UNKNOWN: ScoreDefinition<ScoreOptions> = (out, o, name) => {
  if (out.shape[1] !== o.numClasses + 1) {
    throw new MoonMetricError(
      `${name} needs an "unknown" column: the output has ${out.shape[1]} columns, expected numClasses + 1 = ${o.numClasses + 1}`,
    );
  }
  return () => tf.sub(1, tf.squeeze(tf.slice(probabilitiesFrom(out, o.from), [0, o.numClasses], [-1, 1]), [1]));
};

/**
 * 1 − p(unknown): the probability of the K known classes together (higher = more in-distribution, like every
 * score here). Needs a [N, K+1] output.
 */
export function knownMassScore(output: tf.Tensor, options: ScoreOptions | OutputSource): Float32Array {
  return readSync(pendingScores(UNKNOWN, output, options, 'knownMassScore'));
}

/** {@link knownMassScore} without a synchronous read (any backend, WebGPU included). */
export function knownMassScoreAsync(output: tf.Tensor, options: ScoreOptions | OutputSource): Promise<Float32Array> {
  return readAsync(pendingScores(UNKNOWN, output, options, 'knownMassScoreAsync'));
}

/** @deprecated 0.1 name of {@link knownMassScore} (it is the known mass, 1 − p(unknown)); kept for one release. */
export function unknownScore(output: tf.Tensor, options: ScoreOptions | OutputSource): Float32Array {
  return readSync(pendingScores(UNKNOWN, output, options, 'unknownScore'));
}

/** @deprecated 0.1 name of {@link knownMassScoreAsync}; kept for one release. */
export function unknownScoreAsync(output: tf.Tensor, options: ScoreOptions | OutputSource): Promise<Float32Array> {
  return readAsync(pendingScores(UNKNOWN, output, options, 'unknownScoreAsync'));
}

/** The names of the built-in scores ('unknown' is the 0.1 name of 'known-mass'). */
export type BuiltinScoreName = 'msp' | 'energy' | 'max-logit' | 'known-mass' | 'unknown';

/** A score's name: a built-in one, or one registered with {@link registerScore}. */
export type ScoreName = BuiltinScoreName | (string & Record<never, never>);

/** A score function: [N] values from an output, higher = more in-distribution. */
export type Score = (output: tf.Tensor, options: ScoreOptions | OutputSource) => Float32Array;
/** A score function that reads without blocking. */
export type AsyncScore = (output: tf.Tensor, options: ScoreOptions | OutputSource) => Promise<Float32Array>;

/** A score by its two forms; the synchronous one is optional for a registered score. */
export interface ScoreForms {
  readonly async: AsyncScore;
  readonly sync?: Score;
}

const BUILTIN_SCORES: Readonly<Record<BuiltinScoreName, ScoreForms>> = {
  msp: { sync: mspScore, async: mspScoreAsync },
  energy: { sync: energyScore, async: energyScoreAsync },
  'max-logit': { sync: maxLogitScore, async: maxLogitScoreAsync },
  'known-mass': { sync: knownMassScore, async: knownMassScoreAsync },
  unknown: { sync: knownMassScore, async: knownMassScoreAsync },
};

/** Scores users registered; built-ins are never written here. */
const registeredScores = new Map<string, ScoreForms>();

/** The DI token of the score registered as `name` in a container (`registerScore(name, score, container)`). */
export function scoreToken(name: string): string {
  return `tfjs-moon:score:${name}`;
}

/** The minimal container interface a score registration needs (tsyringe's `DependencyContainer` has it). */
export interface ScoreContainer {
  register(token: string, provider: { useValue: ScoreForms }): unknown;
}

/**
 * Registers an OOD score under `name` for options that pick a score by name (`kit.monitor({ score: name })`, the
 * CLI's evaluation): globally, or in `target` (a tsyringe container you pass to `createMoon({ container })`, so that
 * only those kits' monitors see it). Pass the asynchronous form (any backend), or both forms. A built-in name
 * cannot be replaced.
 * @example registerScore('neg-entropy', async (output, { numClasses }) => …)
 */
export function registerScore(name: string, score: ScoreForms | AsyncScore, target?: ScoreContainer): void {
  requireName('score', name, MoonMetricError);
  if (name in BUILTIN_SCORES) throw new MoonMetricError(`"${name}" is a built-in score: register yours under another name`);
  const forms = typeof score === 'function' ? { async: score } : score;
  if (typeof forms?.async !== 'function' || (forms.sync !== undefined && typeof forms.sync !== 'function')) {
    throw new MoonMetricError(`registerScore("${name}", …) needs an async score function, or { async, sync? }`);
  }
  if (target) target.register(scoreToken(name), { useValue: forms });
  else registeredScores.set(name, forms);
}

function scoreEntry(name: ScoreName): ScoreForms {
  const entry = (BUILTIN_SCORES as Record<string, ScoreForms>)[name] ?? registeredScores.get(name);
  if (entry === undefined) {
    const valid = [...Object.keys(BUILTIN_SCORES), ...registeredScores.keys()];
    throw new MoonMetricError(
      `unknown score ${JSON.stringify(name)}: valid names are ${valid.map((n) => `'${n}'`).join(', ')}; register your own with registerScore(name, score)`,
    );
  }
  return entry;
}

/** The score called `name`, with a synchronous read (built-ins, and registered scores that gave a sync form). */
export function scoreByName(name: ScoreName): Score {
  const entry = scoreEntry(name);
  if (entry.sync === undefined) {
    throw new MoonMetricError(`score "${name}" was registered without a synchronous form: use scoreByNameAsync("${name}")`);
  }
  return entry.sync;
}

/** The score called `name`, reading without blocking (any backend, WebGPU included). */
export function scoreByNameAsync(name: ScoreName): AsyncScore {
  return scoreEntry(name).async;
}
