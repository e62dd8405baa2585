// How an MCP client connects to an API: its URL and a JSON entry for an MCP client's config
// (the `mcpServers` shape most clients read), with the key header when the plan needs one.
import { useState } from 'preact/hooks';
import { useManaged } from './use-managed.ts';
import { planOf, type ApiEntry } from './model.ts';

export function clientConfig(api: ApiEntry, url: string): string {
  const entry: Record<string, unknown> = { type: 'http', url };
  if (planOf(api.auth) === 'api-key') entry.headers = { Authorization: 'Bearer ${GATEHOUSE_AGENT_KEY}' };
  return JSON.stringify({ mcpServers: { [api.name]: entry } }, null, 2);
}

export function ClientSnippet({ api }: { api: ApiEntry }) {
  const info = useManaged<{ mcpBase: string | null }>('/info');
  const [copied, setCopied] = useState(false);
  const base = info.data?.mcpBase ?? '';
  const url = `${base}${api.path}`;
  const config = clientConfig(api, url);
  const copy = () => {
    void navigator.clipboard?.writeText(config).then(() => setCopied(true));
  };
  return (
    <section class="panel" aria-labelledby="snippet-title" data-snippet>
      <h2 id="snippet-title">Connect a client</h2>
      <p>
        MCP URL (Streamable HTTP): <code data-mcp-url>{url}</code>
      </p>
      {planOf(api.auth) === 'api-key' && <p class="small muted">The api-key plan: each agent sends its own key (create agents and keys with the management API or `gatehouse agents`).</p>}
      <pre class="payload" aria-label="MCP client configuration" data-client-config>
        {config}
      </pre>
      <div class="form-actions">
        <button type="button" class="button" onClick={copy}>
          Copy
        </button>
        <span class="muted small" aria-live="polite">
          {copied ? 'Copied.' : 'Changes are live once deployed.'}
        </span>
      </div>
    </section>
  );
}
