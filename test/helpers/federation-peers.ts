// Real peers of the federation tests: server-everything over Streamable HTTP, server-memory and
// server-filesystem over stdio (their bins resolved from node_modules, not fetched with npx), and
// the SDK test server answering in JSON.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, startEverything, tempDir, type RunningEverything } from './gatehouse.ts';
import { startSdkServer, type RunningSdkServer } from './sdk-server.ts';

export function memoryServer(): { command: string; args: string[]; env: Record<string, string> } {
  const file = path.join(tempDir('gatehouse-memory-'), 'memory.jsonl');
  return {
    command: process.execPath,
    args: [path.join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js')],
    env: { MEMORY_FILE_PATH: file },
  };
}

export function filesystemServer(folder: string): { command: string; args: string[] } {
  return { command: process.execPath, args: [path.join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js'), folder] };
}

/** A temporary folder with faq.md in it, for server-filesystem. */
export function publicFolder(): { folder: string; faq: string } {
  const folder = tempDir('gatehouse-public-');
  const faq = path.join(folder, 'faq.md');
  writeFileSync(faq, '# FAQ\n\nQ: Is Gatehouse a gateway?\nA: Yes.\n');
  return { folder, faq };
}

export interface FederationPeers {
  everything: RunningEverything;
  sdk: RunningSdkServer;
  folder: string;
  faq: string;
  close(): Promise<void>;
}

export async function startFederationPeers(): Promise<FederationPeers> {
  const [everything, sdk] = await Promise.all([startEverything(), startSdkServer('json')]);
  const { folder, faq } = publicFolder();
  return {
    everything,
    sdk,
    folder,
    faq,
    close: async () => {
      await Promise.all([everything.close(), sdk.close()]);
    },
  };
}
