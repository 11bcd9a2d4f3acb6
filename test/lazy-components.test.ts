// The built CLI imports the modules of the components its config names, not every built-in: an
// otlp (HTTP) → batch → file collector loads no exporter SDK, no gRPC and no NATS client.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSinkConfig, freePort, startCollector, tempDir, type RunningCollector } from './support/collector-process.js';

let running: RunningCollector | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('lazy built-ins', () => {
  it('an otlp/http → batch → file config loads only those components and none of the heavy clients', async () => {
    const dir = tempDir();
    const list = path.join(dir, 'modules.txt');
    // A module loader hook that notes every module URL the process loads.
    fs.writeFileSync(path.join(dir, 'hooks.mjs'), `import fs from 'node:fs';
export async function load(url, context, next) { fs.appendFileSync(${JSON.stringify(list)}, url + '\\n'); return next(url, context); }
`);
    fs.writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${dir}/hooks.mjs`)});\n`);
    const healthPort = await freePort();
    running = await startCollector(fileSinkConfig(await freePort(), healthPort), { healthPort, dir, env: { NODE_OPTIONS: `--import=${path.join(dir, 'register.mjs')}` } });
    const urls = fs.readFileSync(list, 'utf8').split('\n');
    const loaded = (part: string): boolean => urls.some((u) => u.includes(part));
    for (const used of ['/receivers/otlp/', '/processors/batch/', '/exporters/file/', '/extensions/health_check/']) expect(loaded(used), used).toBe(true);
    for (const unused of ['/exporters/loki/', '/exporters/clickhouse/', '/exporters/store/', '/extensions/api/', '/receivers/filelog/', '/processors/redaction/',
      'node_modules/@grpc/grpc-js/', 'node_modules/nats/', 'node_modules/@aws-sdk/', 'node_modules/better-sqlite3/', 'node_modules/re2js/']) {
      expect(loaded(unused), unused).toBe(false);
    }
  });
});
