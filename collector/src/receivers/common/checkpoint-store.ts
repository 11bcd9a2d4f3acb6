/**
 * Where receivers keep their position (file offsets, cloud cursors) between runs: a `file_storage`
 * extension's directory, one JSON document per receiver, replaced atomically (write + rename) so a
 * crash leaves either the old or the new document, never a torn one.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Host } from '../../component.js';

export interface CheckpointStore {
  load(): unknown;
  save(doc: unknown): void;
  readonly location: string;
}

/** The slice of the file_storage extension receivers use. */
export interface ReceiverStorage {
  readonly directory: string;
  readonly fsyncWrites?: boolean;
}

export class JsonCheckpointStore implements CheckpointStore {
  private readonly tmp: string;
  constructor(readonly location: string, private readonly fsync: boolean) {
    this.tmp = `${location}.tmp`;
    fs.mkdirSync(path.dirname(location), { recursive: true });
  }

  load(): unknown {
    let text: string;
    try {
      text = fs.readFileSync(this.location, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot read checkpoint ${this.location}: ${(e as Error).message}`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`checkpoint ${this.location} is not valid JSON; move it away to start over`);
    }
  }

  /** Synchronous on purpose: the window between "batch accepted" and "position saved" stays minimal. */
  save(doc: unknown): void {
    const fd = fs.openSync(this.tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify(doc));
      if (this.fsync) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(this.tmp, this.location);
  }
}

/** In memory only (no storage configured): positions survive neither restart nor crash, as upstream. */
export class MemoryCheckpointStore implements CheckpointStore {
  private doc: unknown;
  readonly location = '(memory)';
  load(): unknown {
    return this.doc;
  }
  save(doc: unknown): void {
    this.doc = doc;
  }
}

/**
 * Resolves a receiver's `storage` key: the named extension, or (when unset) an extension with id
 * `file_storage` if the service has one, else memory. A named extension that is missing or not a
 * file_storage fails start with the config path.
 */
export function openCheckpointStore(host: Host, storage: string | undefined, receiverId: string): CheckpointStore {
  const id = storage ?? 'file_storage';
  const ext = host.getExtension(id) as Partial<ReceiverStorage> | undefined;
  if (ext === undefined || typeof ext.directory !== 'string') {
    if (storage !== undefined) throw new Error(`receivers.${receiverId}.storage: "${storage}" is not a file_storage extension in service.extensions`);
    return new MemoryCheckpointStore();
  }
  return new JsonCheckpointStore(path.join(ext.directory, 'receivers', `${encodeURIComponent(receiverId)}.json`), ext.fsyncWrites === true);
}
