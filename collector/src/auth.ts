/** Authenticator contracts, as the OpenTelemetry Collector's extension/auth: an extension implements one or both. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Server side: checks a request's headers; rejects with UnauthenticatedError when they don't authenticate. */
export interface ServerAuthenticator {
  authenticate(headers: RequestHeaders): Promise<void>;
}

/** Client side: headers to add to an outgoing request (may depend on the incoming request's metadata). */
export interface ClientAuthenticator {
  clientHeaders(metadata?: RequestHeaders): Promise<Record<string, string>>;
}

export class UnauthenticatedError extends Error {
  override readonly name = 'UnauthenticatedError';
}

export function isServerAuthenticator(x: unknown): x is ServerAuthenticator {
  return typeof x === 'object' && x !== null && typeof (x as { authenticate?: unknown }).authenticate === 'function';
}

export function isClientAuthenticator(x: unknown): x is ClientAuthenticator {
  return typeof x === 'object' && x !== null && typeof (x as { clientHeaders?: unknown }).clientHeaders === 'function';
}
