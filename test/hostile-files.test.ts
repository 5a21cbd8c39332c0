import { execFileSync } from 'child_process';
import fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createMoon, exportSparse, loadSparse, MoonCheckpointError, MoonConfigError, MoonModelError } from '../src';
import { sha256 } from '../src/plugins/checkpoint/checkpoint-files';
import { fitKit, fullStateOptions } from './helpers/checkpoint-kit';
import { buildMlp } from './helpers/models';

// Files from a stranger (#21): the loaders stay inside their folder and check every field before allocating; the
// writers never delete what they did not write. Runs in the cpu and the wasm project.

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'moon-hostile-'));
const bits = (model: tf.LayersModel) => model.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).buffer).toString('base64'));

/** A small model exported to a fresh folder; returns the folder and its model.json, parsed. */
async function exportedFolder(seed = 1): Promise<{ dir: string; json: Record<string, unknown> & { weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[] } }> {
  const dir = path.join(tmp(), 'model');
  await exportSparse(buildMlp(seed, 4, 8), `file://${dir}`);
  return { dir, json: JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) };
}

const rewrite = (dir: string, json: object): void => fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));

describe(`loading a stranger's model folder (${process.env.TFJS_TEST_BACKEND})`, () => {
  test('a weight path outside the folder ("../secret.txt", an absolute path, a symlink out) is refused, nothing read', async () => {
    const { dir, json } = await exportedFolder();
    const secret = path.join(path.dirname(dir), 'secret.txt');
    fs.writeFileSync(secret, Buffer.alloc(fs.statSync(path.join(dir, 'weights.bin')).size, 7));
    for (const p of ['../secret.txt', secret, './weights.bin', 'a/../../secret.txt']) {
      rewrite(dir, { ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: [p] }] });
      await expect(loadSparse(`file://${dir}`)).rejects.toThrow(MoonModelError);
    }
    fs.symlinkSync(secret, path.join(dir, 'link.bin'));
    rewrite(dir, { ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: ['link.bin'] }] });
    await expect(loadSparse(`file://${dir}`)).rejects.toThrow(/leads outside/);
  });

  test('a device, a named pipe or a repeated path is refused at once (no hang, no unbounded read)', async () => {
    const { dir, json } = await exportedFolder();
    fs.symlinkSync('/dev/zero', path.join(dir, 'zero.bin'));
    rewrite(dir, { ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: ['zero.bin'] }] });
    await expect(loadSparse(`file://${dir}`)).rejects.toThrow(MoonModelError);
    execFileSync('mkfifo', [path.join(dir, 'pipe.bin')]);
    rewrite(dir, { ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: ['pipe.bin'] }] });
    await expect(loadSparse(`file://${dir}`)).rejects.toThrow(/not a regular file/);
    rewrite(dir, { ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: Array(2000).fill('weights.bin') }] });
    await expect(loadSparse(`file://${dir}`)).rejects.toThrow(/more than once/);
  });

  test('a weight file of another size than the manifest implies is refused before it is read', async () => {
    const { dir } = await exportedFolder();
    fs.appendFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(4));
    await expect(loadSparse(`file://${dir}`)).rejects.toThrow(/hold \d+ bytes, their manifest describes \d+/);
  });

  test('the compact description is checked before anything is allocated from it', async () => {
    const { dir, json } = await exportedFolder();
    const meta = (json.userDefinedMetadata as { tfjsMoonSparse: { version: number; weights: Record<string, unknown>[] } }).tfjsMoonSparse;
    const withWeight = (i: number, patch: Record<string, unknown>) => {
      const weights = meta.weights.map((w, k) => (k === i ? { ...w, ...patch } : w));
      rewrite(dir, { ...json, userDefinedMetadata: { tfjsMoonSparse: { ...meta, weights } } });
    };
    const kernel = meta.weights.findIndex((w) => w.encoding !== 'dense');
    expect(kernel).toBeGreaterThanOrEqual(0);
    const heap = process.memoryUsage().arrayBuffers;
    withWeight(kernel, { shape: [2 ** 20, 2 ** 10] }); // would allocate 4 GiB from a few bytes
    await expect(loadSparse(`file://${dir}`)).rejects.toThrow(/shape \[1048576,1024\], the topology's is/);
    expect(process.memoryUsage().arrayBuffers - heap).toBeLessThan(64 * 2 ** 20);
    for (const [patch, message] of [
      [{ nonzero: -1 }, /claims -1 nonzeros/],
      [{ nonzero: 'x' }, /claims x nonzeros/],
      [{ encoding: 'zip' }, /encoding "zip"/],
      [{ name: 42 }, /no name/],
      [{ dtype: 'complex64' }, /dtype "complex64"/],
    ] as const) {
      withWeight(kernel, patch);
      await expect(loadSparse(`file://${dir}`)).rejects.toThrow(message);
    }
    rewrite(dir, { ...json, userDefinedMetadata: { tfjsMoonSparse: { ...meta, weights: 'all' } } });
    await expect(loadSparse(`file://${dir}`)).rejects.toThrow(MoonModelError);
  });

  test('out-of-range or unordered indices and extra bytes in the compact data are refused', async () => {
    // A 1/64-dense kernel is stored as indices + values.
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [64], useBias: false, kernelInitializer: 'zeros' })] });
    const kernel = new Float32Array(512);
    kernel[3] = 1;
    kernel[100] = 2;
    kernel[400] = 3;
    model.layers[0].setWeights([tf.tensor(kernel, [64, 8])]);
    const dir = path.join(tmp(), 'indices');
    await exportSparse(model, `file://${dir}`);
    const bin = path.join(dir, 'weights.bin');
    const good = fs.readFileSync(bin);
    expect((await loadSparse(`file://${dir}`)).getWeights()[0].dataSync()[100]).toBe(2);
    const patched = (index: number, value: number) => {
      const bytes = Buffer.from(good);
      bytes.writeInt32LE(value, 4 * index);
      fs.writeFileSync(bin, bytes);
    };
    patched(2, 512);
    await expect(loadSparse(`file://${dir}`)).rejects.toThrow(/index 512 at entry 2: indices must ascend within \[0, 512\)/);
    patched(1, 3);
    await expect(loadSparse(`file://${dir}`)).rejects.toThrow(/index 3 at entry 1/);
    fs.writeFileSync(bin, Buffer.concat([good, Buffer.alloc(4)]));
    await expect(loadSparse(`file://${dir}`)).rejects.toThrow(MoonModelError); // the file's size no longer matches
  });
});

describe('writes never destroy what is not ours', () => {
  test('exporting into a folder holding other files is refused and leaves them untouched', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'a.ts'), 'mine too');
    await expect(exportSparse(buildMlp(1, 4, 8), `file://${dir}`)).rejects.toThrow(/holds "notes.txt", "src", which tfjs-moon did not write/);
    expect(fs.readdirSync(dir).sort()).toEqual(['notes.txt', 'src']);
    expect(fs.readFileSync(path.join(dir, 'src', 'a.ts'), 'utf8')).toBe('mine too');
    await expect(exportSparse(buildMlp(1, 4, 8), `file://${dir}`)).rejects.toThrow(MoonConfigError);
  });

  test('our own export is replaced; only our exact temp names are cleaned up', async () => {
    const { dir } = await exportedFolder(1);
    const parent = path.dirname(dir);
    fs.mkdirSync(path.join(parent, 'model.tmp-123-456'));
    fs.writeFileSync(path.join(parent, 'model.tmp-notes.txt'), 'a user file that merely looks like ours');
    await exportSparse(buildMlp(2, 4, 8), `file://${dir}`);
    expect(fs.readdirSync(parent).sort()).toEqual(['model', 'model.tmp-notes.txt']);
    const loaded = await loadSparse(`file://${dir}`);
    expect(bits(loaded)).toEqual(bits(buildMlp(2, 4, 8)));
  });

  test('after a kill between the two renames the old copy is read, and the next write restores it first', async () => {
    const { dir } = await exportedFolder(1);
    const parent = path.dirname(dir);
    // The state a kill leaves: the old copy renamed aside, the new one complete under its temp name, no `dir`.
    fs.renameSync(dir, path.join(parent, 'model.old-1-2'));
    fs.mkdirSync(path.join(parent, 'model.tmp-1-2'));
    expect(bits(await loadSparse(`file://${dir}`))).toEqual(bits(buildMlp(1, 4, 8)));
    await exportSparse(buildMlp(3, 4, 8), `file://${dir}`);
    expect(fs.readdirSync(parent)).toEqual(['model']);
    expect(bits(await loadSparse(`file://${dir}`))).toEqual(bits(buildMlp(3, 4, 8)));
  });
});

const options = fullStateOptions;

/** Rewrites a checkpoint's manifest through `edit`, with a valid checksum, as a careful attacker would. */
function editManifest(dir: string, edit: (m: Record<string, any>) => void, files?: Record<string, Buffer>): void {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  edit(manifest);
  for (const [name, bytes] of Object.entries(files ?? {})) {
    fs.writeFileSync(path.join(dir, name), bytes);
    manifest.files[name] = sha256(bytes);
  }
  const text = JSON.stringify(manifest);
  fs.writeFileSync(path.join(dir, 'manifest.json'), text);
  fs.writeFileSync(path.join(dir, 'manifest.json.sha256'), sha256(text));
}

describe(`hand-edited checkpoints and run folders (${process.env.TFJS_TEST_BACKEND})`, () => {
  let original: string;
  beforeAll(async () => {
    original = path.join(tmp(), 'ckpt');
    const kit = createMoon(options(buildMlp(3, 11)));
    kit.model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    await fitKit(kit, 1, 0);
    await kit.checkpoint(original);
    kit.dispose();
  });

  const copy = (): string => {
    const dir = path.join(tmp(), 'ckpt');
    fs.cpSync(original, dir, { recursive: true });
    return dir;
  };

  const masksRecord = (m: Record<string, any>) => m.state.find((r: { name: string }) => r.name === 'masks/mask0');

  const EDITS: [string, (dir: string) => void, RegExp][] = [
    ['nextEpoch 99', (d) => editManifest(d, (m) => (m.nextEpoch = 99)), /nextEpoch 99 is not an epoch in \[0, 4\]/],
    ['nextEpoch −3', (d) => editManifest(d, (m) => (m.nextEpoch = -3)), /nextEpoch -3/],
    ['a negative step', (d) => editManifest(d, (m) => (m.step = -1)), /step -1/],
    ['wrong active counts', (d) => editManifest(d, (m) => (m.values.masks.active[0] += 1)), /mask 0 has \d+ ones, the manifest records/],
    ['a record of another dtype', (d) => editManifest(d, (m) => (m.weights[0].dtype = 'int32')), /weight 0 is int32/],
    ['a record at a wrong offset', (d) => editManifest(d, (m) => (m.state[1].offset += 4)), /lies at/],
    ['a record of a wrong shape', (d) => editManifest(d, (m) => (masksRecord(m).shape = [8, 32])), /masks other layers|lies at/],
    ['a file not of the checkpoint', (d) => editManifest(d, (m) => (m.files['../../etc/passwd'] = 'x')), /may list only weights.bin and state.bin/],
    ['a random state of strings', (d) => editManifest(d, (m) => (m.random = ['a', 'b', 'c', 'd'])), /random state/],
    [
      'masks of 7s',
      (d) => {
        const state = fs.readFileSync(path.join(d, 'state.bin'));
        const m = JSON.parse(fs.readFileSync(path.join(d, 'manifest.json'), 'utf8'));
        const r = masksRecord(m);
        new Float32Array(state.buffer, state.byteOffset + r.offset, r.bytes / 4).fill(7);
        editManifest(d, () => undefined, { 'state.bin': state });
      },
      /mask 0 holds 7; a mask holds only 0 and 1/,
    ],
  ];

  test.each(EDITS)('%s: refused with a MoonCheckpointError before the model changes, no tensor leaked', (_what, edit, message) => {
    const dir = copy();
    edit(dir);
    const model = buildMlp(42, 11);
    const before = bits(model);
    const tensors = tf.memory().numTensors;
    expect(() => createMoon(options(model, { resumeFrom: dir }))).toThrow(MoonCheckpointError);
    expect(() => createMoon(options(model, { resumeFrom: dir }))).toThrow(message);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(bits(model)).toEqual(before);
  });

  test('resume refuses another weightDecay or lossVariant: every option that changes training is in the identity', () => {
    for (const extra of [{ weightDecay: 5e-4 }, { lossVariant: 'abstention' as const }]) {
      expect(() => createMoon(options(buildMlp(42, 11), { resumeFrom: original, ...extra }))).toThrow(/different kit: (weightDecay|lossVariant)/);
    }
  });

  test('resumeFrom a parent folder takes the newest checkpoint that reads, skipping a damaged newer one', () => {
    const parent = tmp();
    fs.cpSync(original, path.join(parent, 'epoch-1'), { recursive: true });
    fs.cpSync(original, path.join(parent, 'epoch-2'), { recursive: true });
    fs.appendFileSync(path.join(parent, 'epoch-2', 'state.bin'), 'x');
    const kit = createMoon(options(buildMlp(42, 11), { resumeFrom: parent }));
    expect(kit.resumeEpoch).toBe(1);
    kit.dispose();
  });

  test("a fresh run refuses a folder holding another run's checkpoints and deletes none of them", async () => {
    const root = tmp();
    for (const n of [5, 6]) fs.cpSync(original, path.join(root, `epoch-${n}`), { recursive: true });
    const kit = createMoon(options(buildMlp(4, 11)));
    kit.model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    await expect(fitKit(kit, 1, 0, [kit.checkpointCallback({ dir: root, keep: 1 })])).rejects.toThrow(/holds checkpoints of another run \(epoch-6, epoch-5\)/);
    expect(fs.readdirSync(root).sort()).toEqual(['epoch-5', 'epoch-6']);
    await expect(kit.checkpoint(path.join(root, 'epoch-5'))).rejects.toThrow(/checkpoint of another run/);
    kit.dispose();
  });

  test('a resumed run keeps its run id: it checkpoints into its own folder and prunes only its own', async () => {
    const root = tmp();
    const first = createMoon(options(buildMlp(3, 11)));
    first.model.compile({ optimizer: first.optimizer(tf.train.momentum(0.05, 0.9)), loss: first.loss });
    await fitKit(first, 2, 0, [first.checkpointCallback({ dir: root, keep: 2 })]);
    const resumed = createMoon(options(buildMlp(42, 11), { resumeFrom: root }));
    resumed.model.compile({ optimizer: resumed.optimizer(tf.train.momentum(0.05, 0.9)), loss: resumed.loss });
    await fitKit(resumed, 4, resumed.resumeEpoch, [resumed.checkpointCallback({ dir: root, keep: 2 })]);
    expect(fs.readdirSync(root).sort()).toEqual(['epoch-3', 'epoch-4']);
    first.dispose();
    resumed.dispose();
  });
});
