// The live-generation gate's rule as the issue states it, in plain TypeScript: the oracle the engine's
// gates (test/engine/gates.test.ts) and the server's gated requests (test/server/gate.test.ts) are
// checked against.

/** The gate's rule, as the issue states it, over projections p[0..n) (positions in order). */
export function gateRule(p: number[], g: { on: number; off: number; minHold: number; budget: number | null; lagged: boolean; firstPos: number }): number[] {
  let on = false, held = 0, used = 0, exhausted = false;
  const update = (x: number) => {
    if (exhausted) { on = false; return; }
    if (!on) {
      if (x < g.on) { on = true; held = 0; }
    } else if (held >= g.minHold && x > g.off) {
      on = false;
    }
  };
  return p.map((x, t) => {
    if (t < g.firstPos) return 0;
    let steer: boolean;
    if (g.lagged) { steer = on && !exhausted; update(x); } else { update(x); steer = on; }
    if (steer && g.budget !== null && used >= g.budget) { exhausted = true; on = false; steer = false; }
    if (steer) {
      held++;
      used++;
      if (g.budget !== null && used >= g.budget) { exhausted = true; on = false; }
    }
    return steer ? 1 : 0;
  });
}

