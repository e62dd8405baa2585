// gatehouse export | apply: a managed configuration as a YAML file and back. `apply` makes the
// managed configuration equal to a file: it shows the diff first, then writes the draft and
// deploys; a second apply of the same file finds nothing to change. Both work on the store
// directly (-c node.yaml, or the defaults) or on a running gateway (--url ADMIN_URL, --token).
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse } from 'yaml';
import type { ControlDocument } from '../store/control.ts';
import { documentPatch, documentYaml, readableDiff } from '../control/diff.ts';
import { snapshotConfig } from '../control/document.ts';
import { ManagementError } from '../control/errors.ts';
import { ConfigError } from '../config/errors.ts';
import { action, CliError } from './store-access.ts';
import { loadNodeFile, openTarget, type TargetOptions } from './managed-target.ts';

const isRefusal = (error: unknown) => error instanceof ManagementError || error instanceof ConfigError;

function describeRefusal(error: unknown): never {
  if (error instanceof ManagementError && error.problems) throw new CliError(`${error.message}\n  ${error.problems.map((p) => `${p.field}: ${p.message}`).join('\n  ')}`);
  throw error;
}

export function registerManagedCommands(program: Command): void {
  program
    .command('export')
    .description('write the managed configuration (the deployed version, or --draft) as YAML')
    .option('-c, --config <file>', 'node settings file (locates the store); default: the defaults')
    .option('--url <admin-url>', 'a running gateway\'s admin listener instead of the store (token: --token or GATEHOUSE_ADMIN_TOKEN)')
    .option('--token <token>', 'admin token for --url')
    .option('--draft', 'export the draft instead of the deployed version')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(
      action(async (options: TargetOptions & { draft?: boolean; output?: string }) => {
        const target = await openTarget(options);
        try {
          const document = options.draft ? (await target.draft()).document : (await target.latest())?.document;
          if (!document) throw new CliError('nothing is deployed yet (use --draft for the draft)');
          const text = documentYaml(document);
          if (options.output) await writeFile(options.output, text);
          else process.stdout.write(text);
        } finally {
          await target.close();
        }
      }, isRefusal),
    );

  program
    .command('apply')
    .description('make the managed configuration equal to a file: show the diff, write the draft, deploy (idempotent)')
    .requiredOption('-f, --file <file>', 'YAML or JSON file: servers, apis, … (no per-node fields)')
    .option('-c, --config <file>', 'node settings file (locates the store); default: the defaults')
    .option('--url <admin-url>', 'a running gateway\'s admin listener instead of the store (token: --token or GATEHOUSE_ADMIN_TOKEN)')
    .option('--token <token>', 'admin token for --url')
    .option('--dry-run', 'show the diff and check the file; change nothing')
    .option('-m, --comment <text>', 'comment of the deployment')
    .action(
      action(async (options: TargetOptions & { file: string; dryRun?: boolean; comment?: string }) => {
        const document = await readDocument(options.file);
        // Checked here first, so that a dry run tells what the gateway would refuse.
        const node = options.url === undefined && options.config !== undefined ? await loadNodeFile(options.config) : {};
        snapshotConfig(node, document, options.file);
        const target = await openTarget(options);
        try {
          const latest = await target.latest();
          const draft = await target.draft();
          const text = readableDiff(latest?.document ?? {}, document, latest ? `version ${latest.version}` : '(nothing deployed)', options.file);
          const draftChanges = documentPatch(draft.document, document).length;
          if (text === '' && draftChanges === 0) {
            process.stdout.write(`no changes: the deployed configuration${latest ? ` (version ${latest.version})` : ''} equals ${options.file}\n`);
            return;
          }
          process.stdout.write(text === '' ? `the deployed configuration equals ${options.file}; the draft differs and will be reset\n` : text);
          if (options.dryRun) {
            process.stdout.write('dry run: nothing changed\n');
            return;
          }
          let revision = draft.revision;
          if (draftChanges > 0) revision = await target.replaceDraft(document, draft.revision);
          if (text === '') {
            process.stdout.write('draft reset; nothing to deploy\n');
            return;
          }
          const version = await target.deploy(revision, options.comment ?? `apply ${options.file}`);
          process.stdout.write(`deployed version ${version}\n`);
        } catch (error) {
          describeRefusal(error);
        } finally {
          await target.close();
        }
      }, isRefusal),
    );
}

async function readDocument(file: string): Promise<ControlDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`, 2);
  }
  let value: unknown;
  try {
    value = parse(text, { uniqueKeys: true });
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message.split('\n')[0]}`, 2);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CliError(`${file}: expected a mapping with at least \`servers\` and \`apis\``, 2);
  return value as ControlDocument;
}
