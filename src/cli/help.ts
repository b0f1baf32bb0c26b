/**
 * `certfleet <command> --help`: each command's flags, defaults and the variables it reads.
 * Printed before configuration is read or anything is opened: --help never has side effects
 * (it used to start the server, or run migrations).
 */
export const commandHelp: Readonly<Record<string, string>> = {
  serve: `Usage: certfleet serve

Starts the server: applies migrations, then serves the REST API, the ACME server and the PKI
endpoints until SIGTERM or SIGINT (graceful drain, at most CERTFLEET_SHUTDOWN_TIMEOUT_MS).
Without DATABASE_URL it runs an embedded PostgreSQL in CERTFLEET_DATA_DIR (default ./.certfleet).
Listens on CERTFLEET_HOST:CERTFLEET_PORT (default 127.0.0.1:8080).
Every setting is an environment variable: docs/environment.md.
`,
  migrate: `Usage: certfleet migrate

Applies the database migrations (DATABASE_URL, or the embedded PostgreSQL in CERTFLEET_DATA_DIR)
under an advisory lock and exits. serve does the same at start.
`,
  keys: `Usage: certfleet keys create --name NAME --role ROLE [--expires-at RFC3339] [--init]

Creates an API key and prints it once on stdout (only its SHA-256 is stored).
  --name        unique among live keys: letters, digits, space and . _ @ -
  --role        admin, operator or viewer
  --expires-at  an RFC 3339 time in the future; default: never
  --init        create the embedded database if CERTFLEET_DATA_DIR has none (else: refused)
Uses DATABASE_URL, or the embedded PostgreSQL in CERTFLEET_DATA_DIR (default ./.certfleet):
run it where the server keeps its data. It says on stderr which database it used.
`,
  audit: `Usage: certfleet audit verify [--export-checkpoint FILE] [--checkpoint FILE]

Checks the audit log's hash chain and names the first altered event.
  --export-checkpoint FILE  append the verified head to FILE (keep it elsewhere)
  --checkpoint FILE         also check the chain against FILE (a deleted tail is found)
Uses DATABASE_URL, or the embedded PostgreSQL in CERTFLEET_DATA_DIR (never creates one).
`,
  seed: `Usage: certfleet seed --demo

Adds a small demo inventory (teams, owners, an issuer, policies, agents, targets, six
certificates). Idempotent: never overwrites. Uses DATABASE_URL or CERTFLEET_DATA_DIR.
`,
  agent: `Usage: certfleet agent --server URL [options]

Runs the host agent: registers once, heartbeats, polls for work, generates keys locally,
submits CSRs and deploys certificates to its file targets.
  --server URL              the certfleet server (http:// or https://); required
  --name NAME               the agent's name; default: the host name
  --state-file FILE         its id and key (0600); default $CERTFLEET_DATA_DIR/agent/state.json
  --heartbeat-interval S    seconds between heartbeats; default 60
  --poll-interval S         seconds between work polls; default 30
  --discovery-dir DIR       scan DIR for certificates (repeatable); default: none
  --discovery-interval S    seconds between discovery scans; default 21600
  --ca-file PEM             trust this CA for an https server; default CERTFLEET_AGENT_CA_FILE
  --once                    one heartbeat, a discovery scan, two work polls, then exit
Environment: CERTFLEET_AGENT_BOOTSTRAP_TOKEN (first start only), CERTFLEET_DATA_DIR,
CERTFLEET_LOG_LEVEL, CERTFLEET_AGENT_CA_FILE.
`,
};

/** True when the arguments ask for help (anywhere: `keys create --help` too). */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
