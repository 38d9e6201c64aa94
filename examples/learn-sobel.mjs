// Learns a 3x3 edge detector from examples: pairs (image, image filtered with the Sobel x kernel),
// by plain gradient descent on the mean squared error, using convkit's conv2d for the prediction
// and conv2dBackward for the gradient. Starts from a random kernel and prints the kernel it finds.
//
//   node examples/learn-sobel.mjs            (after `npm run build`, or `npm test` once)
//
// Exits with status 1 if the learned kernel is not within `TOLERANCE` of Sobel x.
import { backendInfo, conv2d, conv2dBackward, init } from 'convkit';

const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
const TOLERANCE = 1e-3;
const [IMAGES, SIZE, STEPS, LEARNING_RATE] = [8, 32, 100, 0.5];

/** Deterministic noise images in [-1, 1): edges in every direction. */
function randomImages(count, size, seed) {
  const data = new Float32Array(count * size * size);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return { data, shape: [count, 1, size, size] };
}

/** The training targets, computed directly from the Sobel definition (no convolution library):
 * right column minus left column, the middle row counted twice. */
function sobelX({ data, shape: [count, , size] }) {
  const out = size - 2;
  const target = new Float32Array(count * out * out);
  for (let n = 0; n < count; n++) {
    const at = (y, x) => data[(n * size + y) * size + x];
    for (let y = 0; y < out; y++) {
      for (let x = 0; x < out; x++) {
        const right = at(y, x + 2) + 2 * at(y + 1, x + 2) + at(y + 2, x + 2);
        const left = at(y, x) + 2 * at(y + 1, x) + at(y + 2, x);
        target[(n * out + y) * out + x] = right - left;
      }
    }
  }
  return { data: target, shape: [count, 1, out, out] };
}

await init();
const images = randomImages(IMAGES, SIZE, 7);
const targets = sobelX(images);
const kernel = { data: randomImages(1, 3, 99).data, shape: [1, 1, 3, 3] };

let loss = Infinity;
for (let step = 0; step <= STEPS; step++) {
  const prediction = conv2d(images, kernel);
  // d(mean squared error)/d(prediction)
  const gradOutput = { data: new Float32Array(prediction.data.length), shape: prediction.shape };
  loss = 0;
  for (let i = 0; i < prediction.data.length; i++) {
    const diff = prediction.data[i] - targets.data[i];
    loss += (diff * diff) / prediction.data.length;
    gradOutput.data[i] = (2 * diff) / prediction.data.length;
  }
  if (step % 10 === 0) console.log(`step ${String(step).padStart(3)}  loss ${loss.toExponential(3)}`);
  const { gradWeight } = conv2dBackward(images, kernel, gradOutput);
  for (let i = 0; i < 9; i++) kernel.data[i] -= LEARNING_RATE * gradWeight.data[i];
}

const error = Math.max(...Array.from(kernel.data, (v, i) => Math.abs(v - SOBEL_X[i])));
const row = (r) => Array.from(kernel.data.slice(3 * r, 3 * r + 3), (v) => v.toFixed(4).padStart(8)).join('');
console.log(`backend ${backendInfo().backend}; learned kernel:\n${row(0)}\n${row(1)}\n${row(2)}`);
console.log(`largest difference from Sobel x: ${error.toExponential(2)} (final loss ${loss.toExponential(2)})`);
process.exitCode = error <= TOLERANCE ? 0 : 1;
