// Hostile lipschitz-model/1 files (the red-team findings of issue 16, items 2 and 3), generated from a
// small seeded model rather than committed as blobs.
import { type ExportedLayer, type ExportedModel, encodeTensor } from '@lipschitz/core';
import { exportModel, flatten, bjorckDense, bcopConv2d, maxMin, sequential } from '@lipschitz/layers';

/** A small seeded network exported as lipschitz-model/1: [8, 8, 1] → conv 1→4 → maxMin → flatten → dense 256→10. */
export async function seededFile(): Promise<ExportedModel> {
  const model = sequential([bcopConv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, seed: 1 }), maxMin(), flatten(), bjorckDense({ inputs: 256, outputs: 10, seed: 2 })]);
  try {
    model.freeze();
    return JSON.parse(JSON.stringify(await exportModel(model, { inputShape: [8, 8, 1], metadata: { model: 'crafted' } })));
  } finally {
    model.dispose();
  }
}

type Dense = Extract<ExportedLayer, { type: 'dense' }>;
type Conv = Extract<ExportedLayer, { type: 'conv2d' }>;

/** One crafted file and the error every reader must give for it (code and the start of the message). */
export interface CraftedCase {
  name: string;
  file: ExportedModel;
  code: string;
  message: RegExp;
}

/** Every finding of issue 16 items 2 and 3, as a file derived from `base` (which is not changed). */
export function craftedCases(base: ExportedModel): CraftedCase[] {
  const edit = (change: (m: ExportedModel & { layers: ExportedLayer[] }) => void): ExportedModel => {
    const copy = structuredClone(base) as ExportedModel & { layers: ExportedLayer[] };
    change(copy);
    return copy;
  };
  const dense = (m: ExportedModel) => m.layers[3] as Dense;
  const conv = (m: ExportedModel) => m.layers[0] as Conv;
  const zeros = (t: { shape: number[] }) => encodeTensor(t.shape, new Float32Array(t.shape.reduce((a, b) => a * b, 1)));
  return [
    { name: 'dense bias of length 1', file: edit((m) => (dense(m).bias = encodeTensor([1], [0.5]))), code: 'CORRUPT_DATA', message: /^validateExportedModel: layer 3 \(dense\) bias has 1 values but the weight has 10 outputs/ },
    { name: 'dense bias of shape [2, 5]', file: edit((m) => (dense(m).bias = encodeTensor([2, 5], new Float32Array(10)))), code: 'CORRUPT_DATA', message: /^validateExportedModel: layer 3 \(dense\) bias must have a shape of 1 positive integers, got \[2,5\]/ },
    { name: 'short dense bias', file: edit((m) => (dense(m).bias = encodeTensor([9], new Float32Array(9)))), code: 'CORRUPT_DATA', message: /^validateExportedModel: layer 3 \(dense\) bias has 9 values but the weight has 10 outputs/ },
    { name: 'short conv bias', file: edit((m) => (conv(m).bias = encodeTensor([3], new Float32Array(3)))), code: 'CORRUPT_DATA', message: /^validateExportedModel: layer 0 \(conv2d\) bias has 3 values but the kernel has 4 output channels/ },
    { name: 'groupSort of size 1', file: edit((m) => (m.layers[1] = { type: 'groupSort', groupSize: 1 })), code: 'CORRUPT_DATA', message: /^validateExportedModel: layer 1 \(groupSort\): groupSize 1 must be an integer ≥ 2 dividing the 4 channels/ },
    { name: 'groupSort size not dividing the channels', file: edit((m) => (m.layers[1] = { type: 'groupSort', groupSize: 3 })), code: 'CORRUPT_DATA', message: /^validateExportedModel: layer 1 \(groupSort\): groupSize 3 must be an integer ≥ 2 dividing the 4 channels/ },
    {
      name: 'all-zero network (L = 0)',
      file: edit((m) => {
        conv(m).kernel = zeros(conv(m).kernel);
        dense(m).weight = zeros(dense(m).weight);
      }),
      code: 'CORRUPT_DATA',
      message: /^validateExportedModel: layer 0 \(conv2d\) kernel is all zeros/,
    },
    { name: 'unknown field stride', file: edit((m) => Object.assign(conv(m), { stride: 2 })), code: 'CORRUPT_DATA', message: /^validateExportedModel: layer 0 \(conv2d\) has an unknown field "stride"/ },
    { name: 'unknown field dilation', file: edit((m) => Object.assign(conv(m), { dilation: 2 })), code: 'CORRUPT_DATA', message: /^validateExportedModel: layer 0 \(conv2d\) has an unknown field "dilation"/ },
    { name: 'input.range [1, 0]', file: edit((m) => (m.input.range = [1, 0])), code: 'CORRUPT_DATA', message: /^validateExportedModel: input.range must be \[min, max\] with finite min < max, got \[1,0\]/ },
    { name: 'input.range [0, 1e30]', file: edit((m) => (m.input.range = [0, 1e30])), code: 'LIMIT_EXCEEDED', message: /^validateExportedModel: input.range \[0,1e\+30\] exceeds maxInputMagnitude = 1000000/ },
    {
      name: 'a NaN weight',
      file: edit((m) => {
        const w = new Float32Array(2560).fill(0.01);
        w[17] = Number.NaN;
        dense(m).weight = encodeTensor([256, 10], w);
      }),
      code: 'CORRUPT_DATA',
      message: /^validateExportedModel: layer 3 \(dense\) weight value 17 is NaN; every weight must be finite/,
    },
    {
      name: 'an infinite bias',
      file: edit((m) => (dense(m).bias = encodeTensor([10], [0, 0, 0, Number.POSITIVE_INFINITY, 0, 0, 0, 0, 0, 0]))),
      code: 'CORRUPT_DATA',
      message: /^validateExportedModel: layer 3 \(dense\) bias value 3 is Infinity/,
    },
    { name: 'wrong byte length', file: edit((m) => (dense(m).weight = { ...dense(m).weight, shape: [256, 11] })), code: 'CORRUPT_DATA', message: /^validateExportedModel: layer 3 \(dense\) weight has 10240 bytes but shape \[256, 11\] needs 11264/ },
    { name: 'dtype float64', file: edit((m) => (dense(m).weight = { ...dense(m).weight, dtype: 'float64' as 'float32' })), code: 'CORRUPT_DATA', message: /^validateExportedModel: layer 3 \(dense\) weight has dtype "float64"; only "float32" is supported/ },
    { name: 'input [28000, 28000, 1]', file: edit((m) => (m.input.shape = [28000, 28000, 1])), code: 'LIMIT_EXCEEDED', message: /^validateExportedModel: input.shape \[28000, 28000, 1\] = 784000000 values per example, more than maxActivationElements = 16777216/ },
    { name: 'input [2^30, 8, 1]', file: edit((m) => (m.input.shape = [2 ** 30, 8, 1])), code: 'LIMIT_EXCEEDED', message: /^validateExportedModel: input.shape \[1073741824, 8, 1\] = 8589934592 values per example/ },
    {
      name: 'a kernel declaring 2^30 values',
      file: edit((m) => (conv(m).kernel = { ...conv(m).kernel, shape: [3, 3, 1, 2 ** 27] })),
      code: 'LIMIT_EXCEEDED',
      message: /^validateExportedModel: layer 0 \(conv2d\) kernel declares 1207959552 values .*more than maxTensorElements = 16777216/,
    },
  ];
}
