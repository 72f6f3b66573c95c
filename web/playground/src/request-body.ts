// The page's state -> the JSON body of a completion request, exactly what is sent and what the Share
// panel shows. Every request streams and asks for token ids and pieces (so each token can be drawn
// with its own colour) and for the monitors' scores.

export type Apply = 'all' | 'prompt' | 'generated';

export interface SteeringEntry { name: string; scale: number; first: number; last: number; apply: Apply; normalize: boolean }
export interface MonitorEntry { name: string; layer: number }
export interface GateSettings { enabled: boolean; name: string; layer: number; on: number; off: number; minHold: number; budget: number | null; positions: 'all' | 'generated' }
export interface ChatTurn { role: 'system' | 'user' | 'assistant'; content: string }

export interface PageRequest {
  mode: 'completion' | 'chat';
  prompt: string;
  /** Chat: the turns so far, the system prompt first when there is one, ending with the new user turn. */
  messages: ChatTurn[];
  maxTokens: number;
  temperature: number;
  /** null: the server draws one (and reports it). */
  seed: number | null;
  steering: SteeringEntry[];
  monitors: MonitorEntry[];
  gate: GateSettings;
}

export const ENDPOINTS = { completion: '/v1/completions', chat: '/v1/chat/completions' } as const;

/** The monitors a request reads: the page's, and the gate's probe when it is not among them (its line carries the thresholds). */
export function requestMonitors(r: PageRequest): MonitorEntry[] {
  const ms = [...r.monitors];
  if (r.gate.enabled && r.gate.name && !ms.some((m) => m.name === r.gate.name && m.layer === r.gate.layer)) ms.push({ name: r.gate.name, layer: r.gate.layer });
  return ms;
}

/** Index of the gate's probe among requestMonitors(r), or -1 without a gate. */
export function gateMonitorIndex(r: PageRequest): number {
  if (!r.gate.enabled || !r.gate.name) return -1;
  return requestMonitors(r).findIndex((m) => m.name === r.gate.name && m.layer === r.gate.layer);
}

function vector(e: SteeringEntry): Record<string, unknown> {
  return { name: e.name, scale: e.scale, layers: e.first === e.last ? e.first : [e.first, e.last], apply: e.apply, normalize: e.normalize };
}

/** The body; `steered: false` leaves out the steering and the gate (the compare view's other column). */
export function requestBody(r: PageRequest, steered = true): Record<string, unknown> {
  const body: Record<string, unknown> = r.mode === 'chat' ? { messages: r.messages } : { prompt: r.prompt };
  body.max_tokens = r.maxTokens;
  body.temperature = r.temperature;
  if (r.seed !== null) body.seed = r.seed;
  body.stream = true;
  body.return_tokens = true;
  body.return_pieces = true;
  const ms = requestMonitors(r);
  if (ms.length > 0) body.monitor = ms.map((m) => ({ name: m.name, layer: m.layer }));
  if (steered && r.steering.length > 0) {
    const vectors = r.steering.map(vector);
    if (r.gate.enabled) {
      body.gate = {
        name: r.gate.name, layer: r.gate.layer, on: r.gate.on, off: r.gate.off, min_hold: r.gate.minHold,
        ...(r.gate.budget !== null ? { budget: r.gate.budget } : {}), positions: r.gate.positions, vectors,
      };
    } else {
      body.steering = { vectors };
    }
  }
  return body;
}
