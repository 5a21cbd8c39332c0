/**
 * A 280×280 canvas to draw a digit on with the mouse, a pen or a finger; the drawing is read as a 28×28 MNIST-like
 * image (white on black, values in [0, 1]).
 */
import * as tf from '@tensorflow/tfjs';

export interface Sketchpad {
  clear(): void;
  /** The drawing as a [1, 784] tensor. */
  image(): tf.Tensor2D;
}

/** Makes `canvas` drawable; `onStroke` runs after each stroke. */
export function createSketchpad(canvas: HTMLCanvasElement, onStroke: () => void): Sketchpad {
  const context = canvas.getContext('2d')!;
  const clear = () => {
    context.fillStyle = 'black';
    context.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  context.strokeStyle = 'white';
  context.lineWidth = 22;
  context.lineCap = 'round';
  context.lineJoin = 'round';
  let drawing = false;
  const at = (e: PointerEvent) => {
    const box = canvas.getBoundingClientRect();
    return [((e.clientX - box.left) * canvas.width) / box.width, ((e.clientY - box.top) * canvas.height) / box.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    drawing = true;
    const [x, y] = at(e);
    context.beginPath();
    context.moveTo(x, y);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    context.lineTo(x, y);
    context.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    onStroke();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointerleave', end);
  return {
    clear,
    image: () =>
      tf.tidy(() => {
        const pixels = tf.browser.fromPixels(canvas, 1).toFloat();
        // MNIST digits sit in a 20×20 box inside 28×28: shrink, then pad.
        const small = tf.image.resizeBilinear(pixels as tf.Tensor3D, [20, 20]);
        return tf.pad(small, [[4, 4], [4, 4], [0, 0]]).div(255).reshape([1, 784]) as tf.Tensor2D;
      }),
  };
}
