/** Upstream confighttp / configgrpc server keys on the otlp receiver: accepted, and honoured where Node can. */
import { afterEach, describe, expect, it } from 'vitest';
import { otlpReceiverConfigSchema } from './config.js';
import { rawRequest, sampleRequest, startReceiver, type StartedReceiver } from './test-support.js';
import { encodeExportRequestJson } from '@tributary/otlp';

let r: StartedReceiver | undefined;
afterEach(async () => {
  await r?.receiver.shutdown();
  r = undefined;
});

describe('otlp receiver server keys', () => {
  it('http: response_headers on every answer; timeouts accepted', async () => {
    r = await startReceiver({ http: { response_headers: { 'x-served-by': 'edge-1' }, read_header_timeout: '5s', read_timeout: '30s', idle_timeout: '60s', write_timeout: '30s', compression_algorithms: ['gzip', 'zstd'] } });
    const res = await rawRequest(`${r.httpBase}/v1/logs`, { headers: { 'content-type': 'application/json' }, body: Buffer.from(encodeExportRequestJson(sampleRequest())) });
    expect(res.status).toBe(200);
    expect(res.headers['x-served-by']).toBe('edge-1');
    const notFound = await rawRequest(`${r.httpBase}/nope`, { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(notFound.headers['x-served-by']).toBe('edge-1');
  });

  it('grpc: keepalive, max_concurrent_streams and buffer sizes are accepted and the server starts', async () => {
    r = await startReceiver({ grpc: {
      max_concurrent_streams: 100, read_buffer_size: 524288, write_buffer_size: '512KiB', transport: 'tcp',
      keepalive: { server_parameters: { max_connection_idle: '11s', max_connection_age: '12s', max_connection_age_grace: '13s', time: '30s', timeout: '5s' }, enforcement_policy: { min_time: '10s', permit_without_stream: true } },
    } });
    expect(r.grpcTarget).not.toBe('');
  });

  it('tls: client_ca_file, min_version, max_version and reload_interval are accepted', () => {
    const cfg = otlpReceiverConfigSchema.parse({ protocols: { http: { tls: { cert_file: 'c.pem', key_file: 'k.pem', client_ca_file: 'ca.pem', min_version: '1.2', max_version: '1.3', reload_interval: '1h' } } } }) as { protocols: { http: { tls: Record<string, unknown> } } };
    expect(cfg.protocols.http.tls).toMatchObject({ client_ca_file: 'ca.pem', min_version: '1.2', reload_interval: 3_600_000 });
  });
});
