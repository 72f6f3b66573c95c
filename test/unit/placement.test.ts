// The line that names the blocks of an all-layers GPU load that do not run on the device
// (lib/engine/model.ts placementWarning; the measurement itself is native/core/placement.cpp,
// tested in eia-native-test and on a device in test/device).
import { describe, expect, it } from 'vitest';
import { placementWarning, type ModelInfo } from '../../lib/engine/model.js';

const base = { nLayer: 6 } as ModelInfo;
const info = (placement: ModelInfo['placement']) => ({ ...base, placement }) as ModelInfo;

describe('placementWarning', () => {
  it('is empty when nothing was measured or every block runs on the device', () => {
    expect(placementWarning(info({ probed: false, device: '', deviceDescription: '', deviceLayers: 0, onHost: [] }))).toBe('');
    expect(placementWarning(info({ probed: true, device: 'CUDA0', deviceDescription: 'H100', deviceLayers: 6, onHost: [] }))).toBe('');
  });

  it('names each block (and the output head) that is not on the device, with the reason', () => {
    const w = placementWarning(info({
      probed: true, device: 'Vulkan0', deviceDescription: 'Radeon', deviceLayers: 5,
      onHost: [{ layer: 3, reason: 'ran on the CPU: MUL_MAT (ffn_up-3)' }, { layer: 6, reason: 'weights in host memory (the device cannot use them): output.weight (q4_K)' }],
    }));
    expect(w).toBe('warning: 5 of 6 blocks run on Vulkan0 (Radeon); not on the device: block 3: ran on the CPU: MUL_MAT (ffn_up-3); ' +
      'output head: weights in host memory (the device cannot use them): output.weight (q4_K)');
  });
});
