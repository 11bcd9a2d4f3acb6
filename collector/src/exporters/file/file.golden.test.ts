/**
 * Upstream's file exporter writes each export as the pdata JSON marshaler's output plus "\n"
 * (opentelemetry-collector-contrib exporter/fileexporter, format: json). Input and expected line: pdata's
 * pinned logsOTLP / logsJSON (see ../testdata/pdata-logs.ts for the upstream file).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testSettings } from '../../../../test/kit/index.js';
import { pdataLogsOTLP, PDATA_LOGS_JSON } from '../testdata/pdata-logs.js';
import { FileExporter, fileExporterConfigSchema } from './index.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

describe('file exporter: upstream pdata JSON line', () => {
  it('one export is exactly the marshaler output of logsJSON, then a newline; two exports are two lines', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tributary-file-golden-'));
    dirs.push(dir);
    const file = path.join(dir, 'out.json');
    const ex = new FileExporter(testSettings('file'), fileExporterConfigSchema.parse({ path: file, flush_interval: '10ms' }));
    await ex.start();
    const signal = new AbortController().signal;
    await ex.send({ resourceLogs: pdataLogsOTLP(), recordCount: 1, receivedAt: performance.now() }, signal);
    await ex.send({ resourceLogs: pdataLogsOTLP(), recordCount: 1, receivedAt: performance.now() }, signal);
    await ex.shutdown();
    expect(await fs.readFile(file, 'utf8')).toBe(`${PDATA_LOGS_JSON}\n${PDATA_LOGS_JSON}\n`);
  });
});
