// The playground page: reads the server's limits and vectors, lets a person pick steering vectors
// (scale, blocks, apply, normalize), monitors and a gate, streams a completion (or a chat turn) with
// every token coloured by its projection, or two at once (steered and unsteered, same prompt and
// seed) side by side, and shows the request as code. Everything it knows comes from the server's
// API (GET /v1/limits, GET /v1/steering/vectors, POST /v1/monitors/baseline, the completion routes).
import { Api, HttpError } from './api.js';
import { halfWidth, scaleColour } from './colour.js';
import { byId, fmt, h } from './dom.js';
import { ENDPOINTS, gateMonitorIndex, requestBody, requestMonitors, type Apply, type ChatTurn, type MonitorEntry, type PageRequest, type SteeringEntry } from './request-body.js';
import { LINE_COLOURS, ScoreChart, type ChartLine } from './score-chart.js';
import { curlCommand, javascriptCode, pythonCode } from './share.js';
import { TokenColumn, type TokenRecord } from './token-column.js';

performance.mark('eia-boot');

// ---- what the server tells us
interface Limits {
  model: string; n_layer: number; n_embd: number; n_ctx_slot: number; slots: number; queue_capacity: number;
  body_limit: number; max_monitors: number; max_steering_vectors: number;
  alpha_bound: { factor: number; blocks: { layer: number; residual_norm: number; max_abs_scale: number }[] };
}
interface VectorInfo {
  name: string; kind: 'probe' | 'control-vector'; layer: number | null; layers: number[]; dimensions: number;
  auroc: number | null; compatible: boolean; warning: string | null;
  /** Issue 25's vector card, when the server lists one. */
  card?: { auroc?: number | { value?: number } | null } | null;
}
interface Baseline { name: string; layer: number; median: number }

const api = new Api();
let limits: Limits | null = null;
let vectors: VectorInfo[] = [];
const medians = new Map<string, number>();
const medianKey = (m: MonitorEntry) => `${m.name}|${m.layer}`;

// ---- the page's controls
const el = {
  modelLine: byId('model-line'), keyButton: byId<HTMLButtonElement>('key-button'),
  prompt: byId<HTMLTextAreaElement>('prompt'), system: byId<HTMLTextAreaElement>('system'), message: byId<HTMLTextAreaElement>('message'),
  transcript: byId('transcript'), clearChat: byId<HTMLButtonElement>('clear-chat'),
  completionFields: byId('completion-fields'), chatFields: byId('chat-fields'),
  maxTokens: byId<HTMLInputElement>('max-tokens'), temperature: byId<HTMLInputElement>('temperature'), seed: byId<HTMLInputElement>('seed'),
  run: byId<HTMLButtonElement>('run'), compare: byId<HTMLButtonElement>('compare'), stop: byId<HTMLButtonElement>('stop'),
  error: byId('error'),
  vectorsNote: byId('vectors-note'), vectorsTable: byId<HTMLTableElement>('vectors-table'),
  steeringList: byId('steering-list'), steeringEmpty: byId('steering-empty'),
  monitorList: byId('monitor-list'), monitorsEmpty: byId('monitors-empty'), colourBy: byId<HTMLSelectElement>('colour-by'),
  gateOn: byId<HTMLInputElement>('gate-on'), gateFields: byId('gate-fields'), gateName: byId<HTMLSelectElement>('gate-name'),
  gateLayer: byId<HTMLInputElement>('gate-layer'), gateOnT: byId<HTMLInputElement>('gate-on-threshold'), gateOffT: byId<HTMLInputElement>('gate-off-threshold'),
  gateHold: byId<HTMLInputElement>('gate-hold'), gateBudget: byId<HTMLInputElement>('gate-budget'), gatePositions: byId<HTMLSelectElement>('gate-positions'),
  legend: byId('legend'), columns: byId('columns'), tooltip: byId('tooltip'), announce: byId('announce'),
  shareCurl: byId('share-curl'), sharePython: byId('share-python'), shareJs: byId('share-js'),
  keyDialog: byId<HTMLDialogElement>('key-dialog'), keyForm: byId<HTMLFormElement>('key-form'), keyMessage: byId('key-message'),
  keyInput: byId<HTMLInputElement>('key-input'), keyCancel: byId<HTMLButtonElement>('key-cancel'),
};
const chart = new ScoreChart(byId('chart'), byId('chart-legend'));

// ---- errors: the server's own message, its code and field
function showError(e: unknown): void {
  const err = e instanceof HttpError ? e : new HttpError(0, e instanceof Error ? e.message : String(e));
  const head = err.status > 0 ? `${err.status}${err.code ? ` ${err.code}` : ''}` : 'error';
  el.error.replaceChildren(h('strong', {}, head), ': ', err.message, err.param ? h('span', { class: 'muted' }, ` (field ${err.param})`) : '');
  el.error.hidden = false;
  if (err.status === 429 || err.status === 503) holdOff(err.retryAfter ?? 1);
}
function clearError(): void {
  el.error.hidden = true;
  el.error.replaceChildren();
}

// 429/503: the buttons wait for Retry-After (the server asked for it)
let retryUntil = 0;
let retryTimer: number | undefined;
function holdOff(seconds: number): void {
  retryUntil = Date.now() + seconds * 1000;
  clearInterval(retryTimer);
  const tick = () => {
    const left = Math.ceil((retryUntil - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(retryTimer);
      el.run.textContent = 'Generate';
      el.compare.textContent = 'Compare steered / unsteered';
      setBusy(running !== null);
      return;
    }
    el.run.textContent = `Generate (retry in ${left} s)`;
    el.compare.textContent = `Compare (retry in ${left} s)`;
    el.run.disabled = el.compare.disabled = true;
  };
  tick();
  retryTimer = window.setInterval(tick, 250);
}

let running: AbortController | null = null;
function setBusy(busy: boolean): void {
  const waiting = Date.now() < retryUntil;
  el.run.disabled = el.compare.disabled = busy || waiting;
  el.stop.disabled = !busy;
}

// ---- API key: asked once, kept in sessionStorage (api.ts)
function askKey(message: string): Promise<string | null> {
  el.keyMessage.textContent = message;
  el.keyInput.value = '';
  el.keyButton.hidden = false;
  return new Promise((resolve) => {
    const done = (v: string | null) => {
      el.keyForm.removeEventListener('submit', submit);
      el.keyCancel.removeEventListener('click', cancel);
      el.keyDialog.removeEventListener('cancel', cancel);
      if (el.keyDialog.open) el.keyDialog.close();
      resolve(v);
    };
    const submit = (e: Event) => { e.preventDefault(); const v = el.keyInput.value.trim(); if (v) done(v); };
    const cancel = (e: Event) => { e.preventDefault(); done(null); };
    el.keyForm.addEventListener('submit', submit);
    el.keyCancel.addEventListener('click', cancel);
    el.keyDialog.addEventListener('cancel', cancel);
    el.keyDialog.showModal();
    el.keyInput.focus();
  });
}
api.askKey = askKey;
el.keyButton.addEventListener('click', async () => {
  const k = await askKey('Enter the key this server was started with (--api-key). It is kept in this tab only.');
  if (k) { api.key = k; void boot(); }
});

// ---- steering entries
interface SteeringRow { entry: SteeringEntry; vector: VectorInfo; li: HTMLLIElement; refresh(): void }
const steering: SteeringRow[] = [];
let uid = 0;

/** The blocks an entry steers: a probe every block of its range; a control vector its own blocks within the range. */
function steeredBlocks(v: VectorInfo, first: number, last: number): number[] {
  const range = Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
  return v.kind === 'control-vector' ? range.filter((l) => v.layers.includes(l)) : range;
}

/** The server's bound on |scale| for these blocks (its smallest; null when unknown). */
function scaleBound(blocks: number[]): { bound: number; norm: number } | null {
  if (!limits || blocks.length === 0) return null;
  let best: { bound: number; norm: number } | null = null;
  for (const l of blocks) {
    const b = limits.alpha_bound.blocks.find((x) => x.layer === l);
    if (b && (!best || b.max_abs_scale < best.bound)) best = { bound: b.max_abs_scale, norm: b.residual_norm };
  }
  return best;
}

/** The slider spans +-10 x the residual norm (steering far past it wrecks the text long before the server's bound of 100x). */
function sliderSpan(norm: number): { span: number; step: number } {
  const raw = 10 * norm;
  const step = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-6) / 500));
  return { span: Math.ceil(raw / (step * 10)) * step * 10, step };
}

function addSteering(v: VectorInfo): void {
  const id = `st${++uid}`;
  const own = v.kind === 'probe' ? v.layer ?? 0 : Math.min(...v.layers);
  const ownLast = v.kind === 'probe' ? own : Math.max(...v.layers);
  const entry: SteeringEntry = { name: v.name, scale: 0, first: own, last: ownLast, apply: 'all', normalize: false };
  const maxLayer = (limits?.n_layer ?? 1) - 1;
  const slider = h('input', { type: 'range', id: `${id}-slider`, min: -1, max: 1, step: 0.1, value: 0, 'aria-describedby': `${id}-bound` });
  const number = h('input', { type: 'number', id: `${id}-scale`, step: 'any', value: 0, 'aria-describedby': `${id}-bound`, class: 'scale' });
  const boundNote = h('span', { id: `${id}-bound`, class: 'muted' });
  const first = h('input', { type: 'number', id: `${id}-first`, min: 0, max: maxLayer, step: 1, value: entry.first });
  const last = h('input', { type: 'number', id: `${id}-last`, min: 0, max: maxLayer, step: 1, value: entry.last });
  const apply = h('select', { id: `${id}-apply` }, ...(['all', 'prompt', 'generated'] as const).map((a) => h('option', { value: a }, a)));
  const normalize = h('input', { type: 'checkbox', id: `${id}-normalize` });
  const remove = h('button', { type: 'button', class: 'remove' }, `Remove ${v.name}`);
  const li = h('li', { class: 'entry', 'data-vector': v.name },
    h('strong', {}, v.name), ` (${v.kind})`,
    h('div', { class: 'scale-row' },
      h('label', { for: `${id}-slider` }, `Scale of ${v.name} (slider)`), slider,
      h('label', { for: `${id}-scale` }, `Scale of ${v.name}`), number),
    boundNote,
    h('div', { class: 'row' },
      h('label', { for: `${id}-first` }, 'From block'), first,
      h('label', { for: `${id}-last` }, 'to block'), last,
      h('label', { for: `${id}-apply` }, 'Apply to'), apply,
      h('span', { class: 'pair' }, normalize, h('label', { for: `${id}-normalize` }, 'Normalize (keep each row\'s norm)'))),
    remove);
  const row: SteeringRow = {
    entry, vector: v, li,
    refresh() {
      const b = scaleBound(steeredBlocks(v, entry.first, entry.last));
      if (b) {
        const { span, step } = sliderSpan(b.norm);
        slider.min = String(-span); slider.max = String(span); slider.step = String(step);
        number.min = String(-b.bound); number.max = String(b.bound);
      }
      slider.value = String(entry.scale);
      const beyond = b !== null && Math.abs(entry.scale) > b.bound;
      number.setAttribute('aria-invalid', String(beyond));
      boundNote.textContent = b
        ? `The server's bound: |scale| ≤ ${fmt(b.bound)} (${limits!.alpha_bound.factor} × residual norm ${fmt(b.norm)} of the blocks steered)${beyond ? ' — beyond it: the server will refuse this request' : ''}.`
        : 'No block of this vector lies in the chosen range.';
      boundNote.classList.toggle('warn', beyond || !b);
    },
  };
  slider.addEventListener('input', () => { entry.scale = Number(slider.value); number.value = slider.value; row.refresh(); changed(); });
  number.addEventListener('input', () => { const x = Number(number.value); if (number.value !== '' && Number.isFinite(x)) { entry.scale = x; row.refresh(); changed(); } });
  const blocks = () => {
    const a = Number(first.value), b = Number(last.value);
    if (Number.isInteger(a) && Number.isInteger(b)) { entry.first = a; entry.last = b; }
    row.refresh(); changed();
  };
  first.addEventListener('input', blocks);
  last.addEventListener('input', blocks);
  apply.addEventListener('change', () => { entry.apply = apply.value as Apply; changed(); });
  normalize.addEventListener('change', () => { entry.normalize = normalize.checked; changed(); });
  remove.addEventListener('click', () => {
    steering.splice(steering.indexOf(row), 1);
    li.remove();
    changed();
  });
  steering.push(row);
  el.steeringList.append(li);
  row.refresh();
  changed();
  slider.focus();
}

// ---- monitors
interface MonitorRow { entry: MonitorEntry; li: HTMLLIElement }
const monitors: MonitorRow[] = [];

function addMonitor(v: VectorInfo): void {
  const id = `mo${++uid}`;
  const entry: MonitorEntry = { name: v.name, layer: v.kind === 'probe' ? v.layer ?? 0 : Math.min(...v.layers) };
  const layer = h('input', { type: 'number', id: `${id}-layer`, min: 0, max: (limits?.n_layer ?? 1) - 1, step: 1, value: entry.layer });
  const remove = h('button', { type: 'button', class: 'remove' }, `Remove monitor ${v.name}`);
  const li = h('li', { class: 'entry', 'data-monitor': v.name }, h('strong', {}, v.name), ' ',
    h('label', { for: `${id}-layer` }, `Block read by ${v.name}`), layer, remove);
  const row: MonitorRow = { entry, li };
  layer.addEventListener('input', () => { const x = Number(layer.value); if (Number.isInteger(x)) { entry.layer = x; changed(); } });
  remove.addEventListener('click', () => { monitors.splice(monitors.indexOf(row), 1); li.remove(); changed(); });
  monitors.push(row);
  el.monitorList.append(li);
  changed();
  layer.focus();
}

// ---- the vectors table
function cardAuroc(v: VectorInfo): { value: number; source: string } | null {
  const c = v.card?.auroc;
  const fromCard = typeof c === 'number' ? c : typeof c === 'object' && c && typeof c.value === 'number' ? c.value : null;
  if (fromCard !== null) return { value: fromCard, source: 'card' };
  return v.auroc !== null ? { value: v.auroc, source: 'validation' } : null;
}

function renderVectors(): void {
  const body = el.vectorsTable.tBodies[0];
  body.replaceChildren();
  for (const v of vectors) {
    const a = cardAuroc(v);
    const why = v.compatible ? null : `not usable with this model (${v.dimensions} values, blocks ${v.layers.join(', ')})`;
    const steer = h('button', { type: 'button', disabled: !v.compatible, 'data-action': 'steer', 'data-vector': v.name, 'aria-label': `Steer with ${v.name}`, title: why ?? `Steer with ${v.name}` }, 'Steer');
    const monitor = h('button', { type: 'button', disabled: !v.compatible, 'data-action': 'monitor', 'data-vector': v.name, 'aria-label': `Monitor ${v.name}`, title: why ?? `Monitor ${v.name}` }, 'Monitor');
    steer.addEventListener('click', () => addSteering(v));
    monitor.addEventListener('click', () => addMonitor(v));
    body.append(h('tr', { class: v.warning ? 'has-warning' : null },
      h('th', { scope: 'row' }, v.name),
      h('td', {}, v.kind),
      h('td', {}, v.kind === 'probe' ? String(v.layer) : v.layers.join(', ')),
      h('td', {}, a ? `${a.value.toFixed(3)} (${a.source})` : '—'),
      h('td', { class: 'use' }, steer, monitor)));
    // the server's warning (a probe of another model) on a row of its own, under the vector's
    if (v.warning) body.append(h('tr', { class: 'warning-row' }, h('td', { colspan: 5, class: 'warn' }, v.warning)));
  }
  el.vectorsTable.hidden = vectors.length === 0;
  el.vectorsNote.textContent = vectors.length === 0 ? 'The server has no vectors (start it with --vectors DIR).' : `${vectors.length} vector${vectors.length === 1 ? '' : 's'}. Steer with one or several; monitor any of them.`;
  el.gateName.replaceChildren(...vectors.filter((v) => v.compatible).map((v) => h('option', { value: v.name }, v.name)));
  syncGateLayer();
}

function syncGateLayer(): void {
  const v = vectors.find((x) => x.name === el.gateName.value);
  if (v) el.gateLayer.value = String(v.kind === 'probe' ? v.layer : Math.min(...v.layers));
}

// ---- the request as the page holds it
function intOf(input: HTMLInputElement, what: string, min: number): number {
  const x = Number(input.value);
  if (input.value.trim() === '' || !Number.isInteger(x) || x < min) throw new HttpError(0, `${what} must be a whole number of at least ${min}`);
  return x;
}

let history: ChatTurn[] = [];
const mode = (): 'completion' | 'chat' => ((document.querySelector('input[name="mode"]:checked') as HTMLInputElement).value as 'completion' | 'chat');

function pageRequest(): PageRequest {
  const m = mode();
  const system = el.system.value.trim();
  const messages: ChatTurn[] = [...(system ? [{ role: 'system' as const, content: system }] : []), ...history, { role: 'user', content: el.message.value }];
  const temperature = Number(el.temperature.value);
  if (el.temperature.value.trim() === '' || !(temperature >= 0)) throw new HttpError(0, 'Temperature must be a number of at least 0');
  const budget = el.gateBudget.value.trim();
  return {
    mode: m, prompt: el.prompt.value, messages,
    maxTokens: intOf(el.maxTokens, 'Max tokens', 1),
    temperature,
    seed: el.seed.value.trim() === '' ? null : intOf(el.seed, 'Seed', 0),
    steering: steering.map((r) => ({ ...r.entry })),
    monitors: monitors.map((r) => ({ ...r.entry })),
    gate: {
      enabled: el.gateOn.checked, name: el.gateName.value, layer: Number(el.gateLayer.value),
      on: Number(el.gateOnT.value), off: Number(el.gateOffT.value), minHold: Number(el.gateHold.value) || 1,
      budget: budget === '' ? null : Number(budget), positions: el.gatePositions.value as 'all' | 'generated',
    },
  };
}

// ---- everything that follows a change of the controls
function changed(): void {
  el.steeringEmpty.hidden = steering.length > 0;
  el.monitorsEmpty.hidden = monitors.length > 0;
  const maxMon = limits?.max_monitors ?? Infinity;
  const maxVec = limits?.max_steering_vectors ?? Infinity;
  let req: PageRequest | null = null;
  try { req = pageRequest(); } catch { /* shown when sent */ }
  const ms = req ? requestMonitors(req) : monitors.map((r) => r.entry);
  for (const b of el.vectorsTable.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
    const v = vectors.find((x) => x.name === b.dataset.vector);
    const full = b.dataset.action === 'monitor' ? ms.length >= maxMon : steering.length >= maxVec;
    b.disabled = !v?.compatible || full;
  }
  const prev = el.colourBy.value;
  el.colourBy.replaceChildren(...ms.map((m, i) => h('option', { value: String(i) }, `${m.name} @ block ${m.layer}`)));
  if (ms.length === 0) el.colourBy.append(h('option', { value: '-1' }, '(no monitor)'));
  if (prev && [...el.colourBy.options].some((o) => o.value === prev)) el.colourBy.value = prev;
  updateShare(req);
  recolourAll();
}

function updateShare(req: PageRequest | null): void {
  if (!req) return;
  const body = requestBody(req, true);
  const path = ENDPOINTS[req.mode];
  const model = limits?.model ?? 'model';
  el.shareCurl.textContent = curlCommand(location.origin, path, body, api.needsKey);
  el.sharePython.textContent = pythonCode(location.origin, req.mode === 'chat', model, body);
  el.shareJs.textContent = javascriptCode(location.origin, req.mode === 'chat', model, body);
}

// ---- output: columns, colours, chart, tooltip
let columns: TokenColumn[] = [];
let shownMonitors: MonitorEntry[] = [];
let gateIdx = -1;

function colourMedian(): { m: number; median: number | null } {
  const m = Number(el.colourBy.value);
  const mon = shownMonitors[m];
  return { m: mon ? m : -1, median: mon ? medians.get(medianKey(mon)) ?? null : null };
}

function recolourAll(): void {
  const { m, median } = colourMedian();
  const scores = function* () { for (const c of columns) for (const t of c.tokens) if (t.scores[m] !== undefined) yield t.scores[m]; };
  const hw = median === null ? 0 : halfWidth(scores(), median);
  for (const c of columns) c.recolour(m, median, hw);
  el.legend.replaceChildren();
  el.legend.dataset.median = median === null ? '' : String(median);
  el.legend.dataset.halfWidth = String(hw);
  if (median !== null && m >= 0) {
    const bar = h('span', { class: 'bar' });
    bar.style.background = `linear-gradient(to right, ${Array.from({ length: 11 }, (_, i) => scaleColour(i / 5 - 1)).join(', ')})`;
    el.legend.append(h('span', {}, `${fmt(median - hw)} (below)`), bar, h('span', {}, `${fmt(median + hw)} (above)`),
      h('span', { class: 'muted' }, ` — centred on the unsteered median ${fmt(median)} of ${shownMonitors[m].name} @ block ${shownMonitors[m].layer}`));
  }
}

const inspector = {
  show(col: TokenColumn, i: number, anchor: HTMLElement, byKeyboard: boolean) {
    const lines = col.describe(i, shownMonitors.map((m) => `${m.name} @ block ${m.layer}`), shownMonitors.map((m) => medians.get(medianKey(m)) ?? null));
    el.tooltip.replaceChildren(...lines.map((l) => h('div', {}, l)));
    el.tooltip.hidden = false;
    const r = anchor.getBoundingClientRect(), host = el.tooltip.offsetParent?.getBoundingClientRect() ?? new DOMRect();
    el.tooltip.style.left = `${r.left - host.left}px`;
    el.tooltip.style.top = `${r.bottom - host.top + 4}px`;
    if (byKeyboard) el.announce.textContent = lines.join('. ');
  },
  hide() { el.tooltip.hidden = true; },
};

function chartLines(): ChartLine[] {
  const lines: ChartLine[] = [];
  columns.forEach((c) => {
    shownMonitors.forEach((mon, k) => {
      const suffix = c.key === 'main' ? '' : c.key === 'steered' ? ' — steered' : ' — unsteered';
      lines.push({
        label: `${mon.name} @ block ${mon.layer}${suffix}`, colour: LINE_COLOURS[k % LINE_COLOURS.length], dashed: c.key === 'unsteered',
        values: [], gate: k === gateIdx && c.key !== 'unsteered' ? [] : null,
      });
    });
  });
  return lines;
}

function feedChart(lines: ChartLine[]): void {
  let n = 0;
  columns.forEach((c) => {
    shownMonitors.forEach((_, k) => {
      const l = lines[n++];
      l.values = c.tokens.map((t) => t.scores[k]);
      if (l.gate) l.gate = c.tokens.map((t) => t.gate === true);
    });
  });
}

interface Chunk {
  choices?: { finish_reason?: string | null }[];
  tokens?: number[]; pieces?: string[]; probe_scores?: number[][]; gate?: boolean[]; seed?: number; warnings?: string[];
}

async function ensureMedians(ms: MonitorEntry[]): Promise<void> {
  const missing = ms.filter((m) => !medians.has(medianKey(m)));
  if (missing.length === 0) return;
  const r = await api.json<{ data: Baseline[] }>('/v1/monitors/baseline', { monitor: missing.map((m) => ({ name: m.name, layer: m.layer })) });
  r.data.forEach((b, i) => medians.set(medianKey(missing[i]), b.median));
}

async function run(compare: boolean): Promise<void> {
  if (running) return;
  clearError();
  let req: PageRequest;
  try {
    req = pageRequest();
  } catch (e) {
    showError(e);
    return;
  }
  const ac = new AbortController();
  running = ac;
  setBusy(true);
  try {
    const ms = requestMonitors(req);
    await ensureMedians(ms);
    shownMonitors = ms;
    gateIdx = gateMonitorIndex(req);
    columns = compare
      ? [new TokenColumn('steered', 'Steered', inspector), new TokenColumn('unsteered', 'Unsteered (same prompt and seed)', inspector)]
      : [new TokenColumn('main', req.steering.length > 0 ? 'Steered' : 'Output', inspector)];
    el.columns.replaceChildren(...columns.map((c) => c.root));
    el.columns.classList.toggle('two', compare);
    const lines = chartLines();
    chart.reset(lines, req.gate.enabled && req.steering.length > 0 && gateIdx >= 0 ? { on: req.gate.on, off: req.gate.off } : null);
    changed();
    const bodies = compare ? [requestBody(req, true), requestBody(req, false)] : [requestBody(req, true)];
    const path = ENDPOINTS[req.mode];
    let frame = 0;
    const redraw = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => { frame = 0; feedChart(lines); chart.update(); recolourAll(); });
    };
    const texts = bodies.map(() => '');
    const results = await Promise.allSettled(bodies.map((body, i) => {
      const col = columns[i];
      col.setStatus('streaming…');
      return api.stream(path, body, {
        event(data) {
          const c = data as Chunk;
          if (c.warnings) col.setStatus(`streaming… (${c.warnings.join('; ')})`);
          if (c.tokens && c.pieces) {
            const recs: TokenRecord[] = c.tokens.map((id, k) => ({ id, piece: c.pieces![k] ?? '', scores: c.probe_scores?.[k] ?? [], gate: c.gate ? c.gate[k] : null }));
            texts[i] += recs.map((r) => r.piece).join('');
            col.append(recs);
            redraw();
          }
          const fin = c.choices?.[0]?.finish_reason;
          if (fin) col.setStatus(`done: ${col.tokens.length} tokens, finish reason ${fin}, seed ${c.seed ?? '?'}`);
        },
      }, ac.signal).catch((e: unknown) => {
        col.setStatus(ac.signal.aborted ? 'stopped' : 'failed');
        throw e;
      });
    }));
    if (frame) cancelAnimationFrame(frame);
    feedChart(lines); chart.update(); recolourAll();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !ac.signal.aborted) showError(failed.reason);
    if (!failed && req.mode === 'chat' && !compare) {
      history = [...history, { role: 'user', content: el.message.value }, { role: 'assistant', content: texts[0] }];
      renderTranscript();
      el.message.value = '';
      changed();
    }
    document.body.dataset.runs = String(Number(document.body.dataset.runs ?? 0) + 1);
  } catch (e) {
    if (!ac.signal.aborted) showError(e);
  } finally {
    running = null;
    setBusy(false);
  }
}

function renderTranscript(): void {
  el.transcript.replaceChildren(...history.map((t) => h('p', { class: `turn ${t.role}` }, h('strong', {}, `${t.role}: `), t.content)));
}

// ---- wiring
el.run.addEventListener('click', () => void run(false));
el.compare.addEventListener('click', () => void run(true));
el.stop.addEventListener('click', () => running?.abort());
el.clearChat.addEventListener('click', () => { history = []; renderTranscript(); changed(); });
for (const r of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
  r.addEventListener('change', () => {
    el.completionFields.hidden = mode() !== 'completion';
    el.chatFields.hidden = mode() !== 'chat';
    changed();
  });
}
el.gateOn.addEventListener('change', () => { el.gateFields.hidden = !el.gateOn.checked; changed(); });
el.gateName.addEventListener('change', () => { syncGateLayer(); changed(); });
el.colourBy.addEventListener('change', () => recolourAll());
for (const x of [el.prompt, el.system, el.message, el.maxTokens, el.temperature, el.seed, el.gateLayer, el.gateOnT, el.gateOffT, el.gateHold, el.gateBudget, el.gatePositions]) {
  x.addEventListener('input', changed);
}
for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-copy]')) {
  b.addEventListener('click', async () => {
    const text = byId(b.dataset.copy!).textContent ?? '';
    try {
      await navigator.clipboard.writeText(text);
      el.announce.textContent = 'Copied.';
    } catch {
      // no clipboard (not a secure context): select the text for a manual copy
      const range = document.createRange();
      range.selectNodeContents(byId(b.dataset.copy!));
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      el.announce.textContent = 'Selected: copy it with Ctrl+C.';
    }
  });
}

async function boot(): Promise<void> {
  try {
    limits = await api.json<Limits>('/v1/limits');
    el.modelLine.textContent = `${limits.model}: ${limits.n_layer} blocks, width ${limits.n_embd}; ${limits.slots} slots of ${limits.n_ctx_slot} tokens`;
    el.maxTokens.max = String(limits.n_ctx_slot - 1);
    vectors = (await api.json<{ data: VectorInfo[] }>('/v1/steering/vectors')).data;
    renderVectors();
    for (const r of steering) r.refresh();
    clearError();
  } catch (e) {
    el.modelLine.textContent = 'not connected';
    showError(e);
  }
  el.keyButton.hidden = !api.needsKey;
  changed();
  performance.mark('eia-ready');
  document.body.dataset.ready = '1';
}

void boot();
