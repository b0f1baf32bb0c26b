/**
 * Deployment connectors: what a target `type` means, as the schema of its `config`. The agent
 * runs them (src/agent/connectors/); docs/connectors.md describes each. A key a type does not
 * know (a typo such as `certpath`) is a 400 naming it, not a deployment that fails on the host.
 *
 * The three daemons get their own connector (the files they read, their validate and reload
 * commands as defaults, a TLS check of what they serve after the reload); every other type
 * (Traefik, Caddy, Envoy, Postfix, Dovecot, File) is the general file connector.
 */
import { z } from 'zod';

export const targetTypes = ['File', 'NGINX', 'Apache', 'HAProxy', 'Traefik', 'Caddy', 'Envoy', 'Postfix', 'Dovecot'] as const;
export type TargetType = (typeof targetTypes)[number];

/** An absolute path on the agent's host. */
const hostPath = z
  .string()
  .min(2)
  .max(4096)
  .refine((p) => p.startsWith('/') && !p.includes('\0'), 'must be an absolute path');
/** A command as argv (no shell): the program, then its arguments. */
const command = z.array(z.string().min(1).max(4096)).min(1).max(64);
/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address. */
const hostPort = z
  .string()
  .max(300)
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/, 'must be host:port (an IPv6 host in brackets)')
  .refine((a) => Number(a.slice(a.lastIndexOf(':') + 1)) >= 1 && Number(a.slice(a.lastIndexOf(':') + 1)) <= 65535, 'port must be 1..65535');

/**
 * After the reload the agent opens a TLS connection to `address` and compares the served leaf
 * with the one it deployed; the deployment completes only when they match. `false` turns it off.
 */
const verify = z.union([
  z.literal(false),
  z.strictObject({
    /** Where the daemon listens; default 127.0.0.1:443. */
    address: hostPort.optional(),
    /** SNI sent; default the certificate's first DNS name that is not a wildcard. */
    server_name: z.string().min(1).max(253).optional(),
    /** How long the served leaf may take to change after the reload; default 10. */
    timeout_seconds: z.number().int().min(1).max(300).optional(),
  }),
]);

const commands = {
  /** Run after writing, before the daemon is told; a non-zero exit restores the previous files. */
  validate_command: command.optional(),
  /** Run once the new files are in place. */
  reload_command: command.optional(),
};

const file = z.strictObject({
  /** The certificate (with its chain unless chain_path is set). A target without it deploys nothing (its jobs fail saying so). */
  cert_path: hostPath.optional(),
  /** The chain apart from the leaf. */
  chain_path: hostPath.optional(),
  /** The private key (mode 0600); the agent generated it and keeps it on the host. */
  key_path: hostPath.optional(),
  ...commands,
  /** Off unless set: a file target need not be served by anything. */
  verify: verify.optional(),
});

const nginx = z.strictObject({
  /** ssl_certificate: the leaf followed by its chain. */
  cert_path: hostPath,
  /** ssl_certificate_key (mode 0600). */
  key_path: hostPath,
  /** nginx's main configuration file when not the built-in default (`nginx -c`). */
  config_file: hostPath.optional(),
  /** Default ["nginx", "-t", "-q"] (with -c config_file). */
  validate_command: commands.validate_command,
  /** Default ["nginx", "-s", "reload"] (with -c config_file); e.g. ["systemctl", "reload", "nginx"]. */
  reload_command: commands.reload_command,
  verify: verify.optional(),
});

const apache = z.strictObject({
  /** SSLCertificateFile: the leaf, followed by its chain unless chain_path is set. */
  cert_path: hostPath,
  /** SSLCertificateKeyFile (mode 0600). */
  key_path: hostPath,
  /** SSLCertificateChainFile, for configurations that still name one. */
  chain_path: hostPath.optional(),
  /** Apache's configuration file when not the built-in default (`apachectl -f`). */
  config_file: hostPath.optional(),
  /** Default ["apachectl", "-t"] (with -f config_file). */
  validate_command: commands.validate_command,
  /** Default ["apachectl", "-k", "graceful"] (with -f config_file). */
  reload_command: commands.reload_command,
  verify: verify.optional(),
});

const haproxy = z.strictObject({
  /** The `crt` file: leaf, chain and private key in one PEM (mode 0600). */
  pem_path: hostPath,
  /** Default /etc/haproxy/haproxy.cfg; validated with `haproxy -c -f`. */
  config_file: hostPath.optional(),
  /**
   * HAProxy's runtime API (a `stats socket ... level admin`): a unix socket path or host:port.
   * When set, the new certificate is loaded with `set ssl cert` + `commit ssl cert`, no reload.
   */
  admin_socket: z.union([hostPath, hostPort]).optional(),
  /** Default ["haproxy", "-c", "-f", config_file]; not run with admin_socket (HAProxy checks the certificate itself). */
  validate_command: commands.validate_command,
  /** Default ["systemctl", "reload", "haproxy"]; not run with admin_socket. */
  reload_command: commands.reload_command,
  verify: verify.optional(),
});

export const targetConfigSchemas = {
  File: file,
  NGINX: nginx,
  Apache: apache,
  HAProxy: haproxy,
  Traefik: file,
  Caddy: file,
  Envoy: file,
  Postfix: file,
  Dovecot: file,
} as const satisfies Record<TargetType, z.ZodType<Record<string, unknown>>>;
