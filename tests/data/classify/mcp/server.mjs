// server.mjs IP PORT — an MCP server built on the official TypeScript SDK, on node's http module.
//
//   /mcp            Streamable HTTP, stateful: an initialize POST without Mcp-Session-Id opens a
//                   session (ids 00000000-0000-4000-8000-00000000000N, in order); POST/GET/DELETE
//                   with the id go to that session's transport. Responses to requests are SSE.
//   /mcp-stateless  Streamable HTTP, stateless, JSON responses: a new server per request (so a
//                   lone tools/call or a JSON-RPC batch works without a session).
//   /sse, /messages the legacy HTTP+SSE transport (protocol 2024-11-05): GET /sse opens the event
//                   stream, whose first event names /messages?sessionId=... for the POSTs.
//
// The McpServer has a tool `search_notes` (query → text), a tool `run_command` (a dry run: it
// never executes anything) and a resource `notes://readme`. Run by make_class_captures.sh.
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { z } from 'zod';

function makeServer() {
  const server = new McpServer({ name: 'tcpr-notes', version: '1.0.0' });
  server.registerTool('search_notes', {
    title: 'Search notes',
    description: 'Full-text search over the team notes',
    inputSchema: { query: z.string() },
  }, async ({ query }) => ({ content: [{ type: 'text', text: `2 notes match "${query}"` }] }));
  server.registerTool('run_command', {
    title: 'Run command',
    description: 'Run a shell command on the build host (this mock only pretends)',
    inputSchema: { command: z.string() },
  }, async () => ({ content: [{ type: 'text', text: 'dry run: nothing was executed' }] }));
  server.registerResource('readme', 'notes://readme', {
    title: 'README', description: 'How the notes are organised', mimeType: 'text/markdown',
  }, async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown',
    text: '# Notes\n\nOne file per meeting, named by date.\n' }] }));
  return server;
}

const sessions = new Map();   // Mcp-Session-Id → StreamableHTTPServerTransport
const legacy = new Map();     // legacy sessionId → SSEServerTransport
let nextSession = 1;

async function streamable(req, res) {
  const sid = req.headers['mcp-session-id'];
  let transport = sid ? sessions.get(sid) : undefined;
  if (!transport) {
    if (sid) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(
        '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      return;
    }
    const t = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => `00000000-0000-4000-8000-${String(nextSession++).padStart(12, '0')}`,
      onsessioninitialized: (id) => sessions.set(id, t),
    });
    t.onclose = () => { if (t.sessionId) sessions.delete(t.sessionId); };
    await makeServer().connect(t);
    transport = t;
  }
  await transport.handleRequest(req, res);
}

async function stateless(req, res) {
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined, enableJsonResponse: true,
  });
  const server = makeServer();
  res.on('close', () => { transport.close(); server.close(); });
  await server.connect(transport);
  await transport.handleRequest(req, res);
}

async function legacySse(req, res) {
  const transport = new SSEServerTransport('/messages', res);
  legacy.set(transport.sessionId, transport);
  res.on('close', () => legacy.delete(transport.sessionId));
  await makeServer().connect(transport);
}

async function legacyPost(req, res, url) {
  const transport = legacy.get(url.searchParams.get('sessionId'));
  if (!transport) {
    res.writeHead(404).end('unknown session');
    return;
  }
  await transport.handlePostMessage(req, res);
}

const [host, port] = process.argv.slice(2);
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  console.error(`mcp server: ${req.socket.remotePort} ${req.method} ${req.url}`);
  let p;
  if (url.pathname === '/mcp') p = streamable(req, res);
  else if (url.pathname === '/mcp-stateless') p = stateless(req, res);
  else if (url.pathname === '/sse' && req.method === 'GET') p = legacySse(req, res);
  else if (url.pathname === '/messages' && req.method === 'POST') p = legacyPost(req, res, url);
  else p = Promise.resolve(res.writeHead(404).end('not found'));
  p.catch((err) => {
    console.error('mcp server: error', err);
    if (!res.headersSent) res.writeHead(500).end();
  });
}).listen(Number(port), host, () => console.error(`mcp server: listening on ${host}:${port}`));
