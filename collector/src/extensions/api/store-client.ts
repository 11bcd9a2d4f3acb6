/** Typed calls to the store's reader worker (queries run off the event loop). */
import type { QueryNode } from '../../query/ast.js';
import type { TextMode } from '../../query/matcher.js';
import type { QueryRequest, QueryResult, TenantAccess } from '../../exporters/store/reader.js';
import type { StoreWorker } from '../../exporters/store/worker-client.js';

type Range = { startMs: number; endMs: number; tenants?: readonly string[] | undefined };

export class StoreClient {
  constructor(private readonly worker: StoreWorker, readonly textMode: TextMode) {}

  query(req: QueryRequest, access: TenantAccess): Promise<QueryResult> {
    return this.worker.call('query', req, access);
  }

  histogram(req: Range & { node: QueryNode; stepMs: number }, access: TenantAccess): Promise<{ step_ms: number; source: 'rollup' | 'rows'; buckets: { start: number; counts: Record<string, number> }[] }> {
    return this.worker.call('histogram', req, access);
  }

  fields(req: Range, access: TenantAccess): Promise<{ name: string; kind: string }[]> {
    return this.worker.call('fields', req, access);
  }

  fieldValues(req: Range & { field: string; limit: number }, access: TenantAccess): Promise<{ value: string | number | boolean | null; count: number }[]> {
    return this.worker.call('fieldValues', req, access);
  }

  series(req: Range & { node: QueryNode }, access: TenantAccess): Promise<Record<string, string>[]> {
    return this.worker.call('series', req, access);
  }

  countStreams(req: Range & { node: QueryNode; bucketMs: number }, access: TenantAccess): Promise<{ start: number; labels: Record<string, string>; count: number }[]> {
    return this.worker.call('countStreams', req, access);
  }

  labelNames(req: Range, access: TenantAccess): Promise<string[]> {
    return this.worker.call('labelNames', req, access);
  }
}
