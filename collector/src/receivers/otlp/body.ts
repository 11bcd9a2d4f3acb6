/**
 * Reads an HTTP request body with a running byte limit on both the bytes received and the bytes after
 * decompression, so a gzip bomb is cut off at the limit instead of being inflated in full.
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate, createInflateRaw, type Gunzip, type Inflate, type InflateRaw } from 'node:zlib';

export type ContentEncoding = 'identity' | 'gzip' | 'deflate';

/** A request the receiver refuses while reading its body; `status` is the HTTP answer. */
export class BodyError extends Error {
  constructor(readonly status: 400 | 413 | 503, message: string) {
    super(message);
    this.name = 'BodyError';
  }
}

/** The client went away before the body was complete; there is nobody to answer. */
export class ClientAbortedError extends Error {
  override name = 'ClientAbortedError';
}

/** Maps a Content-Encoding header to what we can decode; undefined when unsupported. */
export function parseContentEncoding(header: string | undefined): ContentEncoding | undefined {
  if (header === undefined) return 'identity';
  const v = header.trim().toLowerCase();
  if (v === '' || v === 'identity') return 'identity';
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  if (v === 'deflate') return 'deflate';
  return undefined;
}

// "deflate" is meant to be zlib-wrapped (RFC 9110) but some clients send raw deflate: look at the header.
function looksLikeZlib(chunk: Buffer): boolean {
  if (chunk.length < 2) return true;
  const cmf = chunk[0]!;
  return (cmf & 0x0f) === 8 && ((cmf << 8) | chunk[1]!) % 31 === 0;
}

const EMPTY = Buffer.alloc(0);

/**
 * `reserve(total)` is asked before the decoded body grows to `total` bytes (the in-flight budget);
 * false refuses the request with 503.
 */
export function readBody(req: IncomingMessage, encoding: ContentEncoding, limit: number, reserve?: (total: number) => boolean): Promise<Buffer> {
  // A declared, uncompressed body goes straight into one buffer of its size: no chunk list, no concat copy.
  const declared = Number(req.headers['content-length']);
  const direct = encoding === 'identity' && Number.isInteger(declared) && declared > 0 && declared <= limit ? Buffer.allocUnsafeSlow(declared) : undefined;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let decoded = 0;
    let received = 0;
    let settled = false;
    let reqEnded = false;
    let inflater: Gunzip | Inflate | InflateRaw | undefined;

    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onReqError);
      if (inflater !== undefined) {
        inflater.off('data', onDecoded);
        inflater.off('end', finish);
        inflater.destroy();
      }
    };
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      cleanup();
      chunks.length = 0;
      // Keep reading (and discarding) so the answer can be written; the caller closes the connection.
      if (!reqEnded) req.resume();
      reject(err);
    };
    const finish = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      if (direct !== undefined) resolve(decoded === direct.length ? direct : direct.subarray(0, decoded));
      else resolve(chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, decoded));
    };
    const onDecoded = (chunk: Buffer): void => {
      if (settled) return;
      decoded += chunk.length;
      if (decoded > limit) {
        fail(new BodyError(413, `request body decompresses to more than max_request_body_size (${limit} bytes)`));
        return;
      }
      if (reserve !== undefined && !reserve(decoded)) {
        fail(new BodyError(503, 'too many request bytes in flight (max_request_bytes_in_flight); retry later'));
        return;
      }
      if (direct !== undefined && decoded <= direct.length) chunk.copy(direct, decoded - chunk.length);
      else chunks.push(chunk);
    };
    const onInflateError = (err: Error): void => {
      fail(new BodyError(400, `invalid ${encoding} body: ${err.message}`));
    };
    const onData = (chunk: Buffer): void => {
      if (settled) return;
      received += chunk.length;
      if (received > limit) {
        fail(new BodyError(413, `request body is larger than max_request_body_size (${limit} bytes)`));
        return;
      }
      if (encoding === 'identity') {
        onDecoded(chunk);
        return;
      }
      if (inflater === undefined) {
        inflater = encoding === 'gzip' ? createGunzip() : looksLikeZlib(chunk) ? createInflate() : createInflateRaw();
        inflater.on('data', onDecoded);
        inflater.on('end', finish);
        inflater.on('error', onInflateError);
      }
      inflater.write(chunk);
    };
    const onEnd = (): void => {
      reqEnded = true;
      if (inflater === undefined) finish();
      else inflater.end();
    };
    const onClose = (): void => {
      if (!reqEnded) fail(new ClientAbortedError('client closed the connection before the body was complete'));
    };
    const onReqError = (err: Error): void => {
      fail(new ClientAbortedError(`error reading the request: ${err.message}`));
    };

    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onReqError);
  });
}
