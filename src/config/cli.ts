import { readFileSync } from 'node:fs';

/** What `node dist/src/main.js --help` prints. */
export const USAGE = `Usage: npm start -- [options]    (or: node dist/src/main.js [options])

Sigma Live, a live-streaming origin: RTMP/RTMPS/SRT/WHIP ingest, LL-HLS delivery, a REST API.

Options:
  --config FILE        a JSON config file (also: SIGMA_CONFIG=FILE)
  --<key>=VALUE        any config key, dotted: --http.port=9000, --log.level debug,
                       --channels.0.streamKey=… (numbers, true/false, null and JSON are read as such)
  --demo               run the demo channel (public stream key "demo-key"; only with no other channel)
  --help               print this and exit
  --version            print the version and exit

Environment (the file, then the environment, then flags; later wins):
  SIGMA__<KEY>         any config key: SIGMA__ then the key path, segments joined by __, each in
                       UPPER_SNAKE (camelCase split at its capitals, - as _):
                       SIGMA__HTTP__PORT=9000, SIGMA__HTTP2__CLEARTEXT_PORT=null,
                       SIGMA__LATENCY_MODES__ULTRA_LOW__PART_TARGET_SEC=0.3,
                       SIGMA__CHANNELS__0__STREAM_KEY=…; a name that is no key stops the start
  LOG_LEVEL            log.level (SIGMA__LOG__LEVEL and --log.level win over it)

Without a config file and with no channel yet (config or API), the demo channel runs.
Every key, its default and its meaning: README.md, section Configuration.
A configuration mistake exits with status 2, one line per mistake.
`;

/** --help or --version among the arguments: what to print instead of starting. */
export function cliAction(argv: string[]): 'help' | 'version' | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  if (argv.includes('--version')) return 'version';
  return undefined;
}

/** The version of package.json (dist/src/config/cli.js and src/config/cli.ts are both three levels down). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
