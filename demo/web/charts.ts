/**
 * The demo page's live charts: vega-lite specs drawn with vega-embed, redrawn with the new data after every epoch
 * (no hand-drawn canvas code). Redrawing, rather than streaming changesets into an empty view, lets vega lay out
 * axes and facets for the data they hold.
 */
import embed from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';

const WIDTH = 300;
const HEIGHT = 160;

/** Loss and α per epoch, one line each, on independent scales. */
const PROGRESS = {
  width: WIDTH, height: HEIGHT / 2,
  mark: { type: 'line', point: true },
  encoding: {
    x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
    y: { field: 'value', type: 'quantitative', title: null },
    color: { field: 'series', type: 'nominal', legend: null },
    row: { field: 'series', type: 'nominal', title: null },
  },
  resolve: { scale: { y: 'independent' } },
};

/** Density of each masked layer. */
const DENSITY = {
  width: WIDTH, height: HEIGHT,
  mark: 'bar',
  encoding: {
    y: { field: 'layer', type: 'nominal', title: null },
    x: { field: 'density', type: 'quantitative', title: 'active fraction', scale: { domain: [0, 1] } },
  },
};

/** Histograms of the maximum softmax probability over the known classes (MSP), on ID and unknown test digits. */
const SCORES = {
  width: WIDTH, height: HEIGHT,
  mark: { type: 'bar', opacity: 0.55 },
  encoding: {
    x: { field: 'score', type: 'quantitative', bin: { maxbins: 25 }, title: 'max known-class probability (MSP)' },
    y: { aggregate: 'count', type: 'quantitative', stack: null, title: 'digits' },
    color: { field: 'set', type: 'nominal', title: null },
  },
};

/** The score histograms with a vertical rule at the detector's threshold, and the axis named after the score. */
function scoresWithThreshold(title: string, threshold: number): object {
  const { width, height, ...bars } = SCORES;
  const encoding = { ...bars.encoding, x: { ...bars.encoding.x, title } };
  return {
    width, height,
    layer: [
      { mark: bars.mark, encoding },
      { data: { values: [{ threshold }] }, mark: { type: 'rule', color: '#222', strokeDash: [4, 3] }, encoding: { x: { field: 'threshold', type: 'quantitative' } } },
    ],
  };
}

/** The three charts, each drawn into its container. */
export interface Charts {
  addProgress(rows: { epoch: number; series: string; value: number }[]): Promise<void>;
  setDensity(rows: { layer: string; density: number }[]): Promise<void>;
  /** Score histograms: MSP while training; with `decision`, a detector's scores and its threshold. */
  setScores(rows: { set: string; score: number }[], decision?: { title: string; threshold: number }): Promise<void>;
}

async function draw(element: HTMLElement, spec: object, values: object[]): Promise<void> {
  await embed(element, { ...spec, data: { values } } as TopLevelSpec, { renderer: 'canvas', actions: false });
  element.dataset.rows = String(values.length); // what the page's test checks, beside the pixels
}

/** The charts of the three elements; the progress chart keeps every epoch's rows. */
export function createCharts(progress: HTMLElement, density: HTMLElement, scores: HTMLElement): Charts {
  const progressRows: object[] = [];
  return {
    addProgress: (rows) => {
      progressRows.push(...rows);
      return draw(progress, PROGRESS, progressRows);
    },
    setDensity: (rows) => draw(density, DENSITY, rows),
    setScores: async (rows, decision) => {
      await draw(scores, decision ? scoresWithThreshold(decision.title, decision.threshold) : SCORES, rows);
      if (decision) scores.dataset.threshold = String(decision.threshold);
    },
  };
}
