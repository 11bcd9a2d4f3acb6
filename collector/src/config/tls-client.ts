/**
 * The client `tls` section, with the OpenTelemetry Collector's configtls keys and meanings, shared by the
 * HTTP and gRPC client configs: PEM files or inline PEM, `insecure`, `insecure_skip_verify`,
 * `server_name_override`, `min_version`/`max_version`. Files are read once, at start, with errors naming
 * the key and the file (never the PEM content).
 */
import { readFile } from 'node:fs/promises';
import type { SecureVersion } from 'node:tls';
import { z } from 'zod';
import { duration, section } from './schema-helpers.js';

const TLS_VERSIONS = ['1.0', '1.1', '1.2', '1.3'] as const;
type TlsVersion = (typeof TLS_VERSIONS)[number];

const NODE_VERSION: Record<TlsVersion, SecureVersion> = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

export const tlsClientSchema = section({
  /** Plaintext, no TLS (gRPC; for HTTP the URL scheme decides). */
  insecure: z.boolean().default(false),
  /** Accept any server certificate (testing only). */
  insecure_skip_verify: z.boolean().default(false),
  ca_file: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  /** Inline PEM instead of the files (secrets: never logged). */
  ca_pem: z.string().min(1).optional(),
  cert_pem: z.string().min(1).optional(),
  key_pem: z.string().min(1).optional(),
  /** Server name checked against the certificate (and sent as SNI) instead of the endpoint's host. */
  server_name_override: z.string().min(1).optional(),
  min_version: z.enum(TLS_VERSIONS).optional(),
  max_version: z.enum(TLS_VERSIONS).optional(),
  /** Upstream reloads the files this often; accepted and ignored here (files are read at start). */
  reload_interval: duration().optional(),
}).superRefine((t, ctx) => {
  const cert = t.cert_file !== undefined || t.cert_pem !== undefined;
  const key = t.key_file !== undefined || t.key_pem !== undefined;
  if (cert !== key) {
    ctx.addIssue({ code: 'custom', path: [cert ? 'key_file' : 'cert_file'], message: 'tls.cert_file and tls.key_file must be set together' });
  }
  for (const k of ['ca', 'cert', 'key'] as const) {
    if (t[`${k}_file`] !== undefined && t[`${k}_pem`] !== undefined) {
      ctx.addIssue({ code: 'custom', path: [`${k}_pem`], message: `set ${k}_file or ${k}_pem, not both` });
    }
  }
  if (t.min_version !== undefined && t.max_version !== undefined && t.min_version > t.max_version) {
    ctx.addIssue({ code: 'custom', path: ['max_version'], message: 'must not be below min_version' });
  }
});

export type TlsClientConfig = z.output<typeof tlsClientSchema>;

/** What Node's TLS (undici `connect`, grpc-js `createSsl`) takes, read from a `tls` section. */
export interface TlsClientMaterial {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  rejectUnauthorized: boolean;
  servername?: string | undefined;
  minVersion?: SecureVersion | undefined;
  maxVersion?: SecureVersion | undefined;
}

async function load(where: string, key: string, path: string | undefined, pem: string | undefined): Promise<Buffer | undefined> {
  if (pem !== undefined) return Buffer.from(pem, 'utf8');
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`${where}: tls.${key}: cannot read ${path}: ${code}`, { cause: err });
  }
}

/** Reads the PEM material of a (possibly partial) `tls` section; `where` prefixes errors. */
export async function loadTlsClient(where: string, tls: Partial<TlsClientConfig>): Promise<TlsClientMaterial> {
  const [ca, cert, key] = await Promise.all([
    load(where, 'ca_file', tls.ca_file, tls.ca_pem),
    load(where, 'cert_file', tls.cert_file, tls.cert_pem),
    load(where, 'key_file', tls.key_file, tls.key_pem),
  ]);
  if ((cert === undefined) !== (key === undefined)) throw new Error(`${where}: tls.cert_file and tls.key_file must be set together`);
  return {
    ca,
    cert,
    key,
    rejectUnauthorized: tls.insecure_skip_verify !== true,
    servername: tls.server_name_override,
    minVersion: tls.min_version === undefined ? undefined : NODE_VERSION[tls.min_version],
    maxVersion: tls.max_version === undefined ? undefined : NODE_VERSION[tls.max_version],
  };
}
