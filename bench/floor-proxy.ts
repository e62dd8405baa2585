// The floor for any proxy layer: a bare streaming HTTP reverse proxy (node:http only). It copies
// headers, pipes request and response bodies, and reuses upstream connections (keep-alive Agent).
// It knows nothing of MCP. Run: node --import tsx bench/floor-proxy.ts --upstream URL [--port N]
// Prints "FLOOR_LISTENING port=<n>" on stdout once listening on 127.0.0.1.
import http from 'node:http';
import { parseArgs } from 'node:util';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

export function startFloorProxy(upstream: URL, port = 0): Promise<http.Server> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const headers = endToEnd(req.headers);
    headers.host = upstream.host;
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, endToEnd(upRes.headers));
        upRes.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  const { values } = parseArgs({ options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' } } });
  if (!values.upstream) throw new Error('--upstream URL is required');
  const server = await startFloorProxy(new URL(values.upstream), Number(values.port));
  const address = server.address();
  process.stdout.write(`FLOOR_LISTENING port=${typeof address === 'object' && address ? address.port : 0}\n`);
}
