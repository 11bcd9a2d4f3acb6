/**
 * CORS as upstream confighttp does it (rs/cors with AllowCredentials): allowed origins echoed back,
 * `*` wildcards in origins, preflight answered 204 with the requested method/headers when allowed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorsConfig } from './config.js';

interface OriginPattern {
  prefix: string;
  suffix: string;
}

// CORS-safelisted request headers plus the ones rs/cors always allows.
const ALWAYS_ALLOWED_HEADERS = ['accept', 'accept-language', 'content-language', 'content-type', 'origin', 'x-requested-with'];
const ALLOWED_METHODS = new Set(['GET', 'POST', 'HEAD']);

export class CorsPolicy {
  private readonly anyOrigin: boolean;
  private readonly exact = new Set<string>();
  private readonly patterns: OriginPattern[] = [];
  private readonly anyHeader: boolean;
  private readonly headers: Set<string>;
  private readonly maxAge: string | undefined;

  constructor(config: CorsConfig) {
    let anyOrigin = false;
    for (const raw of config.allowed_origins) {
      const o = raw.toLowerCase();
      if (o === '*') anyOrigin = true;
      else {
        const star = o.indexOf('*');
        if (star < 0) this.exact.add(o);
        else this.patterns.push({ prefix: o.slice(0, star), suffix: o.slice(star + 1) });
      }
    }
    this.anyOrigin = anyOrigin;
    this.anyHeader = config.allowed_headers.includes('*');
    this.headers = new Set([...ALWAYS_ALLOWED_HEADERS, ...config.allowed_headers.map((h) => h.toLowerCase())]);
    this.maxAge = config.max_age > 0 ? String(config.max_age) : undefined;
  }

  /** CORS is active only when some origin is allowed (as upstream). */
  get enabled(): boolean {
    return this.anyOrigin || this.exact.size > 0 || this.patterns.length > 0;
  }

  originAllowed(origin: string): boolean {
    if (this.anyOrigin) return true;
    const o = origin.toLowerCase();
    if (this.exact.has(o)) return true;
    for (const p of this.patterns) {
      if (o.length >= p.prefix.length + p.suffix.length && o.startsWith(p.prefix) && o.endsWith(p.suffix)) return true;
    }
    return false;
  }

  private headersAllowed(requested: string): boolean {
    if (this.anyHeader) return true;
    for (const h of requested.split(',')) {
      const name = h.trim().toLowerCase();
      if (name !== '' && !this.headers.has(name)) return false;
    }
    return true;
  }

  /**
   * Handles a preflight (OPTIONS with Origin and Access-Control-Request-Method): answers 204 and returns
   * true. CORS headers are set only when origin, method and headers are all allowed.
   */
  handlePreflight(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    const method = req.headers['access-control-request-method'];
    if (req.method !== 'OPTIONS' || origin === undefined || typeof method !== 'string') return false;
    res.setHeader('Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    const reqHeaders = req.headers['access-control-request-headers'];
    const m = method.toUpperCase();
    if (this.originAllowed(origin) && ALLOWED_METHODS.has(m) && (reqHeaders === undefined || this.headersAllowed(reqHeaders))) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', m);
      if (reqHeaders !== undefined && reqHeaders !== '') res.setHeader('Access-Control-Allow-Headers', reqHeaders);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      if (this.maxAge !== undefined) res.setHeader('Access-Control-Max-Age', this.maxAge);
    }
    res.statusCode = 204;
    res.end();
    return true;
  }

  /** Sets the response headers of an actual (non-preflight) cross-origin request. */
  applyActual(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    res.setHeader('Vary', 'Origin');
    if (!this.originAllowed(origin)) return;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
  }
}
