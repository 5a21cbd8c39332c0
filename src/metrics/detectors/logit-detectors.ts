import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { energyOf, type DetectorMethod } from './detector-method';

/** MSP: the largest softmax probability of the K known logits (Hendrycks & Gimpel). */
export const msp: DetectorMethod<Record<string, never>> = {
  name: 'msp', needs: [], defaults: {},
  fit: async () => ({}),
  score: (batch) => tf.max(tf.softmax(batch.logits), 1) as tf.Tensor1D,
};

/** Energy: T · logsumexp(logits / T) (OpenOOD's EBO), T = 1. */
export const energy: DetectorMethod<{ temperature: number }> = {
  name: 'energy', needs: [], defaults: { temperature: 1 },
  check: ({ temperature }) => positive('energy', 'temperature', temperature),
  fit: async () => ({}),
  score: (batch, _state, _head, { temperature }) => energyOf(batch.logits, temperature),
};

/** Max-logit (OpenOOD's MLS): the largest known logit. */
export const maxLogit: DetectorMethod<Record<string, never>> = {
  name: 'maxLogit', needs: [], defaults: {},
  fit: async () => ({}),
  score: (batch) => tf.max(batch.logits, 1) as tf.Tensor1D,
};

/**
 * GEN (Liu et al. 2023): −Σ over the M largest softmax probabilities of p^γ (1 − p)^γ; γ = 0.1, M = 100 (capped at
 * K), OpenOOD's defaults.
 */
export const gen: DetectorMethod<{ gamma: number; m: number }> = {
  name: 'gen', needs: [], defaults: { gamma: 0.1, m: 100 }, grid: { gamma: [0.01, 0.1, 0.5, 1, 2, 5, 10], m: [10, 50, 100, 200, 500, 1000] },
  check: ({ gamma, m }) => {
    positive('gen', 'gamma', gamma);
    if (!Number.isInteger(m) || m < 1) throw new MoonConfigError(`gen: m must be a positive integer, got ${m}`);
  },
  fit: async () => ({}),
  score: (batch, _state, _head, { gamma, m }) => {
    const probabilities = tf.softmax(batch.logits);
    const top = tf.topk(probabilities, Math.min(m, batch.logits.shape[1])).values;
    return tf.neg(tf.sum(tf.mul(tf.pow(top, gamma), tf.pow(tf.sub(1, top), gamma)), 1)) as tf.Tensor1D;
  },
};

/**
 * Temperature scaling (Guo et al.): MSP of logits / T, T fitted by the negative log-likelihood of the labelled
 * data it is fitted on, which must be held-out in-distribution data (fitted on the training set, T would reward the
 * overconfidence it is meant to correct). A golden-section search over log T in [1/20, 20].
 */
export const temperature: DetectorMethod<Record<string, never>> = {
  name: 'temperature', needs: ['labels'], defaults: {},
  fit: async (data) => {
    const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(data.labels!, 'int32'), data.numClasses));
    const nll = async (logT: number): Promise<number> => {
      const value = tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(tf.div(data.logits, Math.exp(logT)))), 1))));
      const read = (await value.data())[0];
      value.dispose();
      return read;
    };
    try {
      return { temperature: Math.exp(await goldenSection(nll, Math.log(1 / 20), Math.log(20), 40)) };
    } finally {
      onehot.dispose();
    }
  },
  score: (batch, state) => tf.max(tf.softmax(tf.div(batch.logits, state.temperature as number)), 1) as tf.Tensor1D,
};

/** 1 − p(unknown) of a MOON model's K + 1 softmax. */
export const knownMass: DetectorMethod<Record<string, never>> = {
  name: 'knownMass', needs: ['unknown'], defaults: {},
  fit: async () => ({}),
  score: (batch) => {
    const p = tf.softmax(batch.allLogits);
    return tf.sub(1, p.slice([0, p.shape[1] - 1], [-1, 1]).reshape([-1])) as tf.Tensor1D;
  },
};

/** MOON's own score: the largest of the K known probabilities inside the K + 1 softmax (as the reference scores). */
export const moon: DetectorMethod<Record<string, never>> = {
  name: 'moon', needs: ['unknown'], defaults: {},
  fit: async () => ({}),
  score: (batch) => {
    const p = tf.softmax(batch.allLogits);
    return tf.max(p.slice([0, 0], [-1, p.shape[1] - 1]), 1) as tf.Tensor1D;
  },
};

function positive(method: string, key: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw new MoonConfigError(`${method}: ${key} must be a positive number, got ${value}`);
}

/** The minimum of a unimodal f on [lo, hi] by golden-section search, `steps` evaluations. */
async function goldenSection(f: (x: number) => Promise<number>, lo: number, hi: number, steps: number): Promise<number> {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = await f(c);
  let fd = await f(d);
  for (let i = 0; i < steps; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = await f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = await f(d);
    }
  }
  return (a + b) / 2;
}
