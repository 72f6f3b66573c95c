// `eia-native/server`: the OpenAI-compatible server of `eia-native serve` (docs/server.md).
export { createServer, SERVER_DEFAULTS, type ServerOptions, type ServerHandle, type ServerAddress } from '../server/index.js';
