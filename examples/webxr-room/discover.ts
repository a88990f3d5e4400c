/**
 * `npm run discover`: lists the ecsync room servers that advertise themselves on the local network (mDNS,
 * `_ecsync._udp`) within a timeout. Options: `--timeout <ms>` (default 2000), `--interface <IPv4 address>` (only
 * that interface, e.g. 127.0.0.1; default all), `--json` (one JSON array, for tools and tests).
 */
import { fileURLToPath } from 'node:url';
import { browse } from '../../src/discovery.ts';
import type { DiscoveredServer } from '../../src/discovery.ts';

/** The options of the command line. */
export interface DiscoverArgs {
  timeoutMs: number;
  interface?: string;
  json: boolean;
}

/** Reads `--timeout`, `--interface` and `--json`; throws on anything else. */
export function parseDiscoverArgs(argv: readonly string[]): DiscoverArgs {
  const args: DiscoverArgs = { timeoutMs: 2000, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--timeout' && /^\d+$/.test(argv[i + 1] ?? '')) args.timeoutMs = Number(argv[++i]);
    else if (a === '--interface' && argv[i + 1]) args.interface = argv[++i];
    else throw new Error(`unknown argument '${a}': use --timeout <ms>, --interface <IPv4 address>, --json`);
  }
  return args;
}

/** One line per server: name, address, protocol, transports. */
export function describeServer(s: DiscoveredServer): string {
  const scheme = s.tls === false ? 'http' : 'https';
  const extra = [s.path ? `path ${s.path}` : '', s.schemaHash ? `schema ${s.schemaHash}` : ''].filter(Boolean);
  return [
    `  ${s.name}`,
    `    ${scheme}://${s.host}:${s.port}/  (${s.hostName}${s.addresses.length > 1 ? `, ${s.addresses.join(' ')}` : ''})`,
    `    protocol ${s.protocolVersion}, transports ${s.transports.join(', ') || '-'}${extra.length ? `, ${extra.join(', ')}` : ''}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const args = parseDiscoverArgs(process.argv.slice(2));
  const servers = await browse({ timeoutMs: args.timeoutMs, interface: args.interface });
  if (args.json) {
    console.log(JSON.stringify(servers));
    return;
  }
  const where = args.interface ? ` on ${args.interface}` : '';
  if (servers.length === 0) console.log(`No ecsync room servers found${where} within ${args.timeoutMs} ms.`);
  else console.log(`ecsync room servers${where} (${servers.length}):\n${servers.map(describeServer).join('\n')}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
