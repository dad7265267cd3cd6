// client.mjs streamable|sse URL LOG — an MCP client session with the official TypeScript SDK.
//
// Client + StreamableHTTPClientTransport (or the legacy SSEClientTransport): initialize (connect),
// tools/list, tools/call search_notes, resources/list, resources/read notes://readme, then (for
// Streamable HTTP) a DELETE ending the session, and close. Each call is awaited before the next.
//
// The transport's own fetch (node's built-in undici) does the HTTP; the `fetch` option only
// wraps it to append one JSON line per HTTP request to LOG, in the order the SDK issued them:
//   {"seq", "http_method", "target" (path?query), "accept", "session" (Mcp-Session-Id or null),
//    "body" (string or null), "jsonrpc_methods" (methods of the body's message(s), in order)}
// make_class_captures.sh joins that log with the capture's connections (write_labels.py).
import fs from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

const [mode, urlText, logPath] = process.argv.slice(2);
if (!['streamable', 'sse'].includes(mode) || !urlText || !logPath) {
  console.error('usage: client.mjs streamable|sse URL LOG');
  process.exit(2);
}
const log = fs.openSync(logPath, 'w');
let seq = 0;

function header(headers, name) {
  if (!headers) return null;
  if (typeof headers.get === 'function') return headers.get(name);
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? null : headers[key];
}

async function loggingFetch(input, init = {}) {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const body = typeof init.body === 'string' ? init.body : null;
  let methods = [];
  if (body !== null) {
    const msg = JSON.parse(body);
    methods = (Array.isArray(msg) ? msg : [msg]).filter((m) => m.method).map((m) => m.method);
  }
  fs.writeSync(log, JSON.stringify({
    seq: seq++, http_method: (init.method || 'GET').toUpperCase(), target: url.pathname + url.search,
    accept: header(init.headers, 'accept'), session: header(init.headers, 'mcp-session-id'),
    body, jsonrpc_methods: methods,
  }) + '\n');
  return fetch(input, init);
}

const url = new URL(urlText);
const transport = mode === 'streamable'
  ? new StreamableHTTPClientTransport(url, { fetch: loggingFetch })
  : new SSEClientTransport(url, { fetch: loggingFetch });
const client = new Client({ name: 'tcpr-agent', version: '0.1.0' });

const timer = setTimeout(() => { console.error('mcp client: timed out'); process.exit(1); }, 20000);
await client.connect(transport);
const tools = await client.listTools();
const call = await client.callTool({ name: 'search_notes', arguments: { query: 'quarterly plan' } });
const resources = await client.listResources();
const readme = await client.readResource({ uri: 'notes://readme' });
console.error(`mcp client: ${tools.tools.length} tools, call said ${JSON.stringify(call.content[0].text)}, ` +
  `${resources.resources.length} resources, readme ${readme.contents[0].text.length} chars`);
if (mode === 'streamable') await transport.terminateSession();
await client.close();
clearTimeout(timer);
fs.closeSync(log);
