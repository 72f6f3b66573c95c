// Reading single tensors of a GGUF file (F32/F16), e.g. a model's output_norm.weight in tests.
import { addon } from './native.js';

export function readGgufTensor(path: string, name: string): { shape: number[]; data: Float32Array } {
  return addon().readGgufTensor(path, name);
}
