// The robustness web page: prepares a backend (auto: WebGPU > WebGL > wasm), certifies an exported
// model on MNIST test images, trains a small BCOP network in the browser. Results are mirrored on
// `window.__results` for the end-to-end test (apps/robustness/test/web.test.ts).
import { type BackendName, type PreparedBackend, prepareBackend } from '@lipschitz/backends';
import type { ExportedModel } from '@lipschitz/core';
import type { ImageSet } from '@lipschitz/datasets';
import { BROWSER_NETWORKS, MNIST_EPSILONS, type PageCertification, certifyExported, fetchMnistSubset, trainInBrowser } from './app';

/** What the page exposes on `window.__results`. */
export interface PageResults {
  status: 'starting' | 'ready' | 'busy' | 'error';
  backend: PreparedBackend | null;
  /** The latest certification of a loaded model file. */
  certify: (PageCertification & { source: string }) | null;
  /** Where the loaded model came from (`zoo:NAME`, a `?model=` URL or a file name); null before one is loaded. */
  loaded: string | null;
  /** The names of the zoo models the page offers (`models/zoo.json` of the build); empty for a build without the zoo. */
  zoo: string[];
  /** The latest in-browser training run (and the certification of the trained model once done). */
  train: { network: string; steps: number; totalSteps: number; losses: number[]; done: boolean; milliseconds?: number; certify?: PageCertification } | null;
  error: string | null;
}

const results: PageResults = { status: 'starting', backend: null, certify: null, loaded: null, zoo: [], train: null, error: null };
(window as unknown as { __results: PageResults }).__results = results;

const GRID_LIMIT = 200;
const BACKENDS: readonly BackendName[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => element<HTMLInputElement>(id);
const percent = (x: number) => `${(100 * x).toFixed(2)}%`;

function setStatus(id: string, text: string, isError = false): void {
  const node = element(id);
  node.textContent = text;
  node.classList.toggle('error', isError);
}

function numberInput(id: string, fallback: number): number {
  const node = input(id);
  const value = Number(node.value);
  const min = Number(node.min || 1);
  const max = Number(node.max || Number.MAX_SAFE_INTEGER);
  return Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

const subsets = new Map<string, Promise<ImageSet>>();

/** The MNIST subset `split` written by scripts/build-web.mjs, fetched once (again after a failure). */
function mnistSubset(split: 'test' | 'train'): Promise<ImageSet> {
  let subset = subsets.get(split);
  if (!subset) {
    subset = fetchMnistSubset(`data/mnist-${split}-images.idx`, `data/mnist-${split}-labels.idx`, `mnist-${split}`);
    subsets.set(split, subset);
    subset.catch(() => subsets.delete(split));
  }
  return subset;
}
let model: { exported: ExportedModel; source: string } | null = null;
let busy = false;

function setBusy(value: boolean): void {
  busy = value;
  if (value) results.error = null;
  results.status = value ? 'busy' : results.error ? 'error' : 'ready';
  element<HTMLButtonElement>('certify').disabled = value || model === null;
  element<HTMLButtonElement>('train').disabled = value;
}

function fail(where: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  results.error = `${where}: ${message}`;
  results.status = 'error';
  setStatus(where === 'train' ? 'train-status' : 'model-status', message, true);
}

function drawDigit(pixels: Float32Array): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = 28;
  canvas.height = 28;
  const context = canvas.getContext('2d');
  if (context) {
    const image = context.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = 255 - Math.round(255 * pixels[i]);
      image.data.set([v, v, v, 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  }
  return canvas;
}

/** The rows of a results table: `[label, id suffix]`; the cells get the id `${prefix}summary-${suffix}`. */
const SUMMARY_ROWS: [string, string][] = [
  ['Images', 'count'],
  ['Clean accuracy', 'clean'],
  ...MNIST_EPSILONS.map((e): [string, string] => [`Certified accuracy at ε = ${e.text}`, e.text]),
  ['Lipschitz upper bound L', 'bound'],
  ['Time', 'time'],
];

/**
 * Shows a certification in the results block `container` (the certify section's, or the training
 * section's): a table (cells `#${prefix}summary-…`), the legend of the grid, the grid `#${prefix}grid`.
 */
function show(container: HTMLElement, prefix: string, result: PageCertification, set: ImageSet, source: string): void {
  const table = document.createElement('table');
  const values: Record<string, string> = {
    count: `${result.count} (${source})`,
    clean: percent(result.clean),
    bound: result.lipschitzUpperBound.toPrecision(8),
    time: `${(result.milliseconds / 1000).toFixed(2)} s on ${results.backend?.backend ?? '?'}`,
  };
  for (const e of MNIST_EPSILONS) values[e.text] = percent(result.certified[e.text]);
  for (const [label, key] of SUMMARY_ROWS) {
    const row = table.insertRow();
    const th = document.createElement('th');
    th.textContent = label;
    const td = row.insertCell();
    td.id = `${prefix}summary-${key}`;
    td.textContent = values[key];
    row.prepend(th);
  }
  const legend = document.createElement('p');
  legend.className = 'legend';
  legend.innerHTML =
    `Each image: <code>prediction · r radius</code>, where the radius <var>r</var> = margin / (√2·<var>L</var>) is the largest ℓ2 ` +
    `perturbation that provably cannot change the prediction. <span class="swatch certified"></span> green frame: correct and certified at ` +
    `ε = ${MNIST_EPSILONS[0].text} (r &gt; ${MNIST_EPSILONS[0].text}); <span class="swatch wrong"></span> red frame: misclassified ` +
    `(“(is y)” gives the label; no radius); no frame: correct, certified only below ${MNIST_EPSILONS[0].text}. ` +
    `The first ${Math.min(result.count, GRID_LIMIT)} images are shown.`;
  const grid = document.createElement('div');
  grid.id = `${prefix}grid`;
  grid.className = 'grid';
  for (let i = 0; i < Math.min(result.count, GRID_LIMIT); i++) {
    const cell = document.createElement('figure');
    const correct = result.predictions[i] === result.labels[i];
    cell.className = `cell ${!correct ? 'wrong' : result.radii[i] > MNIST_EPSILONS[0].value ? 'certified' : ''}`;
    cell.title = `label ${result.labels[i]}, prediction ${result.predictions[i]}, margin ${result.margins[i].toFixed(4)}`;
    const caption = document.createElement('figcaption');
    caption.textContent = `${result.predictions[i]}${correct ? '' : ` (is ${result.labels[i]})`} · r ${correct ? result.radii[i].toFixed(3) : '—'}`;
    cell.append(drawDigit(set.images.subarray(i * 784, (i + 1) * 784)), caption);
    grid.append(cell);
  }
  container.replaceChildren(table, legend, grid);
  container.hidden = false;
}

async function certifyLoaded(): Promise<void> {
  if (!model || busy) return;
  const current = model;
  setBusy(true);
  try {
    setStatus('model-status', `Certifying ${current.source}…`);
    const set = await mnistSubset('test');
    const result = await certifyExported(current.exported, set, numberInput('count', 100));
    results.certify = { ...result, source: current.source };
    setStatus('model-status', `Certified ${result.count} test images with ${current.source}.`);
    show(element('certify-results'), '', result, set, current.source);
  } catch (error) {
    fail('certify', error);
  } finally {
    setBusy(false);
  }
}

/** Loads a model file's text; certifies it at once unless `certify` is false (the zoo model the page opens with). */
async function loadModel(text: string, source: string, certify = true): Promise<void> {
  try {
    model = { exported: JSON.parse(text) as ExportedModel, source };
  } catch {
    fail('certify', new Error(`${source} is not JSON: choose a lipschitz-model/1 file written by \`robustness export\`.`));
    return;
  }
  results.loaded = source;
  element<HTMLButtonElement>('certify').disabled = busy;
  if (certify) await certifyLoaded();
}

/** The zoo model the page opens with when no `?model=` is given (`robustness certify --model zoo:NAME`). */
const DEFAULT_ZOO_MODEL = 'mnist-small-bcop';

/** `models/zoo.json` of the build: the zoo's MNIST models only (scripts/build-web.mjs copies no others: the page holds MNIST test images). */
interface ZooIndex {
  models: Record<string, { file: string; description: string }>;
}

/** Fetches and loads the zoo model `name` (`models/<file>` of the build). */
async function loadZooModel(index: ZooIndex, name: string, certify: boolean): Promise<void> {
  const entry = index.models[name];
  const response = await fetch(`models/${entry.file}`);
  if (!response.ok) throw new Error(`fetching the zoo model ${name} failed: HTTP ${response.status}.`);
  await loadModel(await response.text(), `zoo:${name}`, certify);
  if (!certify) setStatus('model-status', `Loaded zoo:${name} — ${entry.description} Press Certify.`);
}

/**
 * Lists the zoo (`models/zoo.json`, copied into the build by scripts/build-web.mjs) in the model selector and, when
 * `openDefault`, loads {@link DEFAULT_ZOO_MODEL} without certifying it. A build without the zoo offers none.
 */
async function setUpZoo(openDefault: boolean): Promise<void> {
  const response = await fetch('models/zoo.json');
  if (!response.ok) return;
  const index = (await response.json()) as ZooIndex;
  const select = element<HTMLSelectElement>('zoo-model');
  for (const [name, entry] of Object.entries(index.models)) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = name;
    option.title = entry.description;
    select.append(option);
    results.zoo.push(name);
  }
  select.addEventListener('change', () => {
    if (select.value) void loadZooModel(index, select.value, true).catch((error) => fail('certify', error));
  });
  if (openDefault && results.zoo.includes(DEFAULT_ZOO_MODEL)) {
    select.value = DEFAULT_ZOO_MODEL;
    await loadZooModel(index, DEFAULT_ZOO_MODEL, false);
  }
}

async function trainClicked(): Promise<void> {
  if (busy) return;
  setBusy(true);
  const images = numberInput('train-images', 256);
  const batchSize = numberInput('train-batch', 32);
  const epochs = numberInput('train-epochs', 4);
  const network = BROWSER_NETWORKS.find((n) => n === element<HTMLSelectElement>('train-network').value) ?? 'small';
  const totalSteps = Math.ceil(images / batchSize) * epochs;
  const state: NonNullable<PageResults['train']> = { network, steps: 0, totalSteps, losses: [], done: false };
  results.train = state;
  const progress = element<HTMLProgressElement>('train-progress');
  try {
    setStatus('train-status', 'Loading the training images…');
    const set = await mnistSubset('train');
    setStatus('train-status', `Training the ${network} BCOP network on ${images} images (${totalSteps} steps of ${batchSize})…`);
    element('train-results').hidden = true;
    const trained = await trainInBrowser(set, {
      network,
      images,
      batchSize,
      epochs,
      onStep: (step, total, loss) => {
        state.steps = step;
        state.totalSteps = total;
        if (loss !== undefined) state.losses[step - 1] = loss;
        progress.value = step / total;
        setStatus('train-status', `step ${step}/${total}${loss === undefined ? '' : `, loss ${loss.toFixed(4)}`}`);
      },
    });
    state.losses = trained.losses;
    state.milliseconds = trained.milliseconds;
    const url = URL.createObjectURL(new Blob([JSON.stringify(trained.exported)], { type: 'application/json' }));
    const link = element<HTMLAnchorElement>('train-download');
    link.href = url;
    link.hidden = false;
    setStatus('train-status', `Trained ${trained.steps} steps in ${(trained.milliseconds / 1000).toFixed(1)} s; certifying it…`);
    const test = await mnistSubset('test');
    const result = await certifyExported(trained.exported, test, numberInput('count', 100));
    state.certify = result;
    show(element('train-results'), 'train-', result, test, `${network} network trained in the browser`);
    const last = trained.losses[trained.losses.length - 1];
    setStatus(
      'train-status',
      `Trained ${trained.steps} steps in ${(trained.milliseconds / 1000).toFixed(1)} s (loss ${trained.losses[0]?.toFixed(4)} → ${last?.toFixed(4)}); ` +
        `clean ${percent(result.clean)}, certified@1.58 ${percent(result.certified['1.58'])}.`,
    );
    state.done = true;
  } catch (error) {
    fail('train', error);
  } finally {
    setBusy(false);
  }
}

async function start(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const requested = (params.get('backend') ?? 'auto') as BackendName;
  if (params.has('n')) input('count').value = params.get('n') ?? '100';
  try {
    if (!BACKENDS.includes(requested)) throw new Error(`?backend= must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(requested)}.`);
    results.backend = await prepareBackend(requested, { wasmPaths: new URL('./', location.href).href });
    setStatus('backend', `Backend: ${results.backend.backend} — ${results.backend.reason}`);
  } catch (error) {
    results.error = `backend: ${error instanceof Error ? error.message : String(error)}`;
    results.status = 'error';
    setStatus('backend', results.error, true);
    return;
  }
  setBusy(false);
  input('model-file').addEventListener('change', () => {
    const file = input('model-file').files?.[0];
    if (file) void file.text().then((text) => loadModel(text, file.name), (error) => fail('certify', error));
  });
  element('certify').addEventListener('click', () => void certifyLoaded());
  element('train').addEventListener('click', () => void trainClicked());
  const url = params.get('model');
  try {
    await setUpZoo(!url);
  } catch (error) {
    fail('certify', error);
  }
  if (url) {
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`fetching ${url} failed: HTTP ${response.status}.`);
      await loadModel(await response.text(), url);
    } catch (error) {
      fail('certify', error);
    }
  }
}

void start();
