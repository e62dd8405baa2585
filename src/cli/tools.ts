// gatehouse tools …: the tool definitions the pinning policy recorded (src/policy/pinning/), in
// the store the configuration file names. `diff` shows what changed against the approved
// definition and the hash to approve; `approve` approves the definition last seen, and with
// --hash only if it is still the one shown (refused when it changed again). A running Gatehouse
// sees an approval within its store poll (2 s), on every node.
// Exit codes: 0 done, 1 refused (unknown tool, stale hash), 2 a config file that does not load.
import type { Command } from 'commander';
import { action, CliError, withStore } from './store-access.ts';
import { approvalRefusal, pinDiff, pinStatus, pinView } from '../policy/pinning/views.ts';

interface Options {
  config: string;
}

export function registerToolsCommands(program: Command): void {
  const tools = program.command('tools').description('review and approve the tool definitions recorded by the pinning policy');

  tools
    .command('list [server]')
    .description('list recorded tools with their status (approved, changed, unapproved) and hashes')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .option('--json', 'print JSON')
    .action(
      action(async (server: string | undefined, options: Options & { json?: boolean }) => {
        const pins = await withStore(options.config, (store) => store.listToolPins(server));
        if (options.json) return void process.stdout.write(JSON.stringify(pins.map(pinView), null, 2) + '\n');
        if (pins.length === 0) return void process.stdout.write('no tools recorded\n');
        const table = [['SERVER', 'TOOL', 'STATUS', 'HASH', 'APPROVED'], ...pins.map((p) => [p.server, p.tool, pinStatus(p), p.hash.slice(0, 12), p.approvedHash?.slice(0, 12) ?? '-'])];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
        process.stdout.write(table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
      }),
    );

  tools
    .command('diff <server> <tool>')
    .description('show the definition last seen against the approved one, and the hash to approve')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .action(
      action(async (server: string, tool: string, options: Options) => {
        const pin = await withStore(options.config, (store) => store.getToolPin(server, tool));
        if (!pin) throw new CliError(approvalRefusal('missing', server, tool));
        const diff = pinDiff(pin);
        process.stdout.write(diff === '' ? `${server}/${tool}: the definition seen is the approved one\n` : diff);
        process.stdout.write(`hash ${pin.hash}\n`);
        if (diff !== '') process.stdout.write(`approve it with: gatehouse tools approve ${server} ${tool} --hash ${pin.hash} -c ${options.config}\n`);
      }),
    );

  tools
    .command('approve <server> <tool>')
    .description('approve the definition last seen (with --hash: only if it is still the one with that hash)')
    .requiredOption('-c, --config <file>', 'configuration file (locates the store)')
    .option('--hash <sha256>', 'the hash `gatehouse tools diff` showed: refused if the definition changed since')
    .action(
      action(async (server: string, tool: string, options: Options & { hash?: string }) => {
        if (options.hash !== undefined && !/^[0-9a-f]{64}$/.test(options.hash)) throw new CliError('--hash: expected the 64 hex digits `gatehouse tools diff` shows');
        const outcome = await withStore(options.config, async (store) => {
          const hash = options.hash ?? (await store.getToolPin(server, tool))?.hash;
          return hash === undefined ? ('missing' as const) : store.approveToolPin(server, tool, hash, Date.now(), 'cli');
        });
        if (outcome !== 'approved') throw new CliError(approvalRefusal(outcome, server, tool));
        process.stdout.write(`approved ${server}/${tool}\n`);
      }),
    );
}
