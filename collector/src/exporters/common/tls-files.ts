/** Reads the PEM files of a `tls` config section once, at start, with errors naming the key and file. */
import { readFile } from 'node:fs/promises';

export interface TlsFileConfig {
  ca_file?: string | undefined;
  cert_file?: string | undefined;
  key_file?: string | undefined;
}

export interface TlsMaterial {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
}

async function load(where: string, key: string, path: string | undefined): Promise<Buffer | undefined> {
  if (!path) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`${where}: tls.${key}: cannot read ${path}: ${code}`, { cause: err });
  }
}

export async function loadTlsMaterial(where: string, tls: TlsFileConfig): Promise<TlsMaterial> {
  const [ca, cert, key] = await Promise.all([
    load(where, 'ca_file', tls.ca_file),
    load(where, 'cert_file', tls.cert_file),
    load(where, 'key_file', tls.key_file),
  ]);
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error(`${where}: tls.cert_file and tls.key_file must be set together`);
  }
  return { ca, cert, key };
}
