// The Share panel: the request the page sends, as a curl command and as code for the official
// OpenAI clients (Python and JavaScript), so a script can reproduce what the page does. The key is
// never written out: the snippets read it from EIA_NATIVE_API_KEY. Our request extensions go in the
// clients' extra_body (Python) or the body itself (JavaScript passes unknown fields through).

const OPENAI_FIELDS = new Set(['prompt', 'messages', 'max_tokens', 'temperature', 'seed', 'stream', 'model']);

/** POSIX shell single-quoting. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function curlCommand(origin: string, path: string, body: Record<string, unknown>, needsKey: boolean): string {
  const lines = [`curl -sN ${shellQuote(origin + path)}`, `  -H 'content-type: application/json'`];
  if (needsKey) lines.push(`  -H "authorization: Bearer $EIA_NATIVE_API_KEY"`);
  lines.push(`  -d ${shellQuote(JSON.stringify(body))}`);
  return lines.join(' \\\n');
}

/** Python literal of a JSON value (True/False/None; strings as JSON escapes them, which Python reads the same). */
function py(v: unknown, indent = ''): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number' || typeof v === 'string') return JSON.stringify(v);
  const inner = indent + '    ';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[\n${v.map((x) => inner + py(x, inner)).join(',\n')},\n${indent}]`;
  const es = Object.entries(v as Record<string, unknown>);
  return es.length === 0 ? '{}' : `{\n${es.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${py(x, inner)}`).join(',\n')},\n${indent}}`;
}

function split(body: Record<string, unknown>): { std: [string, unknown][]; extra: Record<string, unknown> } {
  const std: [string, unknown][] = [];
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (OPENAI_FIELDS.has(k)) std.push([k, v]);
    else extra[k] = v;
  }
  return { std, extra };
}

export function pythonCode(origin: string, chat: boolean, model: string, body: Record<string, unknown>): string {
  const { std, extra } = split(body);
  const args = [['model', model] as [string, unknown], ...std].map(([k, v]) => `    ${k}=${py(v, '    ')},`);
  args.push(`    extra_body=${py(extra, '    ')},`);
  const call = chat ? 'client.chat.completions.create' : 'client.completions.create';
  const read = chat ? 'chunk.choices[0].delta.content or ""' : 'chunk.choices[0].text';
  return [
    'import os',
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url=${JSON.stringify(origin + '/v1')}, api_key=os.environ.get("EIA_NATIVE_API_KEY", "none"))`,
    `stream = ${call}(`,
    ...args,
    ')',
    'for chunk in stream:',
    '    if chunk.choices:',
    `        print(${read}, end="", flush=True)`,
    '    # our extras per chunk: chunk.model_extra["probe_scores"], ["gate"], ["tokens"], ["pieces"]',
    'print()',
  ].join('\n');
}

export function javascriptCode(origin: string, chat: boolean, model: string, body: Record<string, unknown>): string {
  const call = chat ? 'client.chat.completions.create' : 'client.completions.create';
  const read = chat ? "chunk.choices[0]?.delta?.content ?? ''" : "chunk.choices[0]?.text ?? ''";
  const json = JSON.stringify({ model, ...body }, null, 2).split('\n').map((l, i) => (i === 0 ? l : '  ' + l)).join('\n');
  return [
    "import OpenAI from 'openai';",
    '',
    `const client = new OpenAI({ baseURL: ${JSON.stringify(origin + '/v1')}, apiKey: process.env.EIA_NATIVE_API_KEY ?? 'none' });`,
    `const stream = await ${call}(${json});`,
    'for await (const chunk of stream) {',
    `  if (chunk.choices.length > 0) process.stdout.write(${read});`,
    '  // our extras per chunk: chunk.probe_scores, chunk.gate, chunk.tokens, chunk.pieces',
    '}',
    "process.stdout.write('\\n');",
  ].join('\n');
}
