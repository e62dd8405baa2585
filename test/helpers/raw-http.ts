// HTTP requests that fetch cannot make: repeated headers (fetch joins them into one), a Host
// header of our choosing. Uses node:http with the header list as sent, in order.
import { request } from 'node:http';

export interface WireAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request with `headers` sent exactly as listed (repeats kept); Host too, when listed. */
export function sendRaw(url: string, init: { method?: string; headers: Array<[string, string]>; body?: string }): Promise<WireAnswer> {
  const target = new URL(url);
  const sendsHost = init.headers.some(([name]) => name.toLowerCase() === 'host');
  // Given as a flat list, Node sends the headers exactly as they are (adding no Host; a body goes chunked).
  const headers = [...(sendsHost ? [] : ['host', target.host]), ...init.headers.flat()];
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers, setHost: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.on('error', reject);
    req.end(init.body);
  });
}
