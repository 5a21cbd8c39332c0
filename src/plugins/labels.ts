import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../core/errors';

/** Labels in any form users hold them: a tensor (one-hot rows or class ids) or an array of class ids. */
export type LabelInput = tf.Tensor | ArrayLike<number>;

function describe(y: unknown): string {
  return y instanceof tf.Tensor ? `shape [${y.shape}], dtype ${y.dtype}` : typeof y;
}

/** Host class ids, checked to be integers in [0, K) (a host array can be checked without a device read). */
function hostIds(ids: ArrayLike<number>, numClasses: number): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= numClasses) {
      throw new MoonConfigError(`label ${i} is ${id}: class ids must be integers in [0, ${numClasses}) (numClasses = ${numClasses})`);
    }
    out[i] = id;
  }
  return out;
}

/** Whether a tensor holds class ids ([N], or [N, 1] when a one-hot row could not be one column wide). */
function isIdTensor(y: tf.Tensor, numClasses: number): boolean {
  return y.rank === 1 || (y.rank === 2 && y.shape[1] === 1 && numClasses > 1);
}

/**
 * Training labels as float32 one-hot rows of `width` columns: `numClasses` for a plain kit, `numClasses + 1` for
 * an unknown-aware one (the "unknown" column, last, is always 0: no training sample is labelled unknown). Accepts
 * one-hot rows over K or K + 1 of any numeric dtype (`tf.oneHot` returns int32), integer class ids as a tensor of
 * shape [N] or [N, 1], or an array of class ids (checked to lie in [0, K); ids in a tensor are not read back, so
 * an id outside [0, K) there gives an all-zero row). A float32 tensor that already fits is returned as it is.
 */
export function oneHotLabels(y: LabelInput, numClasses: number, width: number): tf.Tensor2D {
  if (!(y instanceof tf.Tensor)) {
    if (y === null || typeof y !== 'object' || typeof (y as ArrayLike<number>).length !== 'number') {
      throw new MoonConfigError(`labels must be a tf.Tensor (one-hot rows or class ids) or an array of class ids, got ${describe(y)}`);
    }
    const ids = hostIds(y, numClasses);
    return tf.tidy(() => padTo(tf.oneHot(tf.tensor1d(ids, 'int32'), numClasses), width));
  }
  if (isIdTensor(y, numClasses)) {
    return tf.tidy(() => padTo(tf.oneHot(tf.cast(tf.reshape(y, [-1]), 'int32'), numClasses), width));
  }
  const columns = y.shape[y.rank - 1];
  if (y.rank !== 2 || (columns !== numClasses && columns !== numClasses + 1)) {
    throw new MoonConfigError(
      `labels of ${describe(y)} do not fit numClasses = ${numClasses}: pass one-hot labels over ${numClasses}` +
        `${width > numClasses ? ` or ${width}` : ''} columns, or class ids of shape [N] or [N, 1]`,
    );
  }
  if (columns > width) {
    throw new MoonConfigError(
      `labels have ${columns} columns (an "unknown" column) but this plain kit's model has numClasses = ${numClasses} outputs: ` +
        `pass one-hot labels over ${numClasses} columns`,
    );
  }
  if (y.dtype === 'float32' && columns === width) return y as tf.Tensor2D;
  return tf.tidy(() => padTo(tf.cast(y, 'float32'), width));
}

/** Float32 one-hot rows padded with zero columns on the right to `width`. */
function padTo(oneHot: tf.Tensor, width: number): tf.Tensor2D {
  const rows = tf.cast(oneHot, 'float32') as tf.Tensor2D;
  const missing = width - (rows.shape[1] as number);
  return missing > 0 ? (tf.pad(rows, [[0, 0], [0, missing]]) as tf.Tensor2D) : rows;
}
