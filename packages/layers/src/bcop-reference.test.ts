import { decodeTensor } from '@lipschitz/core';
import { describeBackends, expectClose } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { type BcopConv2d, bcopConv2d } from './index';

// Test vectors of reference-bcop.md §1.7, produced by the reference code in float64:
// M[m][i][j] = (i == j) + 0.3·sin(1 + i + 2j + 3m), Björck run to convergence; W is OIHW row-major,
// x = sin(arange(cin·16)/10) as (1, cin, 4, 4), y = conv2d_cyclic_pad(x, W) as (1, cout, 4, 4).
const CASES = [
  {
    cin: 2,
    cout: 2,
    W: '0.978779 -0.001897 0.015859 0.000849 0.009970 0.186257 0.000162 -0.083336 0.083336 -0.000162 -0.186257 -0.009970 0.000849 0.015859 -0.001897 0.978779',
    y: '0.958906 0.875938 0.890666 0.896494 0.419751 0.129274 0.229455 0.327344 0.765126 0.512365 0.597648 0.676959 0.989705 0.814565 0.871485 0.919697 1.009848 1.049324 1.013306 0.967163 0.805996 0.782413 0.719349 0.649097 0.555850 0.489904 0.402554 0.311181 0.217946 0.120051 0.022204 -0.075865',
  },
  {
    cin: 1,
    cout: 2,
    W: '0.978779 -0.001897 0.015859 0.000849 0.083336 -0.000162 -0.186257 -0.009970',
    y: '0.979245 0.910517 0.942993 0.966046 0.299796 0.006393 0.105420 0.203394 0.644550 0.392286 0.481317 0.565539 0.887544 0.716246 0.781225 0.838398 0.027934 0.076522 0.059565 0.042013 -0.099245 -0.077328 -0.086638 -0.095083 -0.119522 -0.109047 -0.114427 -0.118664 -0.120929 -0.123550 -0.124151 -0.123511',
  },
  {
    cin: 4,
    cout: 2,
    W: '0.722144 0.231924 0.099866 -0.098005 0.028782 0.115000 0.052642 -0.067678 0.156588 0.044504 -0.292288 0.253049 -0.097995 -0.056999 0.284341 -0.337741 -0.168592 0.009183 -0.006268 0.015203 0.789027 0.170397 0.086415 -0.079399 -0.080090 -0.007311 0.207627 -0.228910 -0.169193 -0.042287 0.310957 -0.277066',
    y: '0.964205 0.780374 0.775540 0.762956 0.636273 0.309930 0.381210 0.448681 0.852325 0.569545 0.621729 0.667702 0.933813 0.739241 0.764091 0.781308 -0.044508 0.290722 0.176006 0.059531 1.072452 1.174671 1.156000 1.125779 0.883622 1.032005 0.969390 0.897089 0.555287 0.726409 0.629735 0.526769',
  },
];

const parse = (s: string) => s.split(' ').map(Number);

describeBackends('bcopConv2d against the reference test vectors (k = 2)', () => {
  it('reproduces the reference kernel (OIHW → HWIO) and the circular-padded output', async () => {
    for (const { cin, cout, W, y } of CASES) {
      const k = 2;
      const cmax = Math.max(cin, cout);
      const layer = bcopConv2d({ inChannels: cin, outChannels: cout, kernelSize: k, bias: false, iterations: 60, orthogonalization: 'unrolled' }) as BcopConv2d;
      const m = new Float32Array(3 * cmax * cmax);
      for (let n = 0; n < 3; n++) for (let i = 0; i < cmax; i++) for (let j = 0; j < cmax; j++) m[(n * cmax + i) * cmax + j] = (i === j ? 1 : 0) + 0.3 * Math.sin(1 + i + 2 * j + 3 * n);
      layer.params.assign(tf.tensor3d(m, [3, cmax, cmax]));
      const [exported] = await layer.exportLayers([4, 4, cin]);
      if (exported.type !== 'conv2d') throw new Error('expected a conv2d layer');
      const kernel = decodeTensor(exported.kernel).values;
      const w = parse(W);
      const expectedKernel: number[] = [];
      for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) for (let c = 0; c < cin; c++) for (let o = 0; o < cout; o++) expectedKernel.push(w[((o * cin + c) * k + u) * k + v]);
      await expectClose(kernel, expectedKernel, { atol: 2e-6 });
      // x[c, h, w] = sin((16c + 4h + w)/10), NCHW → NHWC; y is NCHW.
      const x = new Float32Array(16 * cin);
      for (let c = 0; c < cin; c++) for (let p = 0; p < 16; p++) x[p * cin + c] = Math.sin((16 * c + p) / 10);
      const out = await tf.transpose(layer.apply(tf.tensor4d(x, [1, 4, 4, cin])), [0, 3, 1, 2]).data();
      await expectClose(out, parse(y), { atol: 2e-6 });
      expect(out.length).toBe(16 * cout);
      layer.dispose();
    }
  });
});
