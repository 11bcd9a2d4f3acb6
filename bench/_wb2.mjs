import { makeBatches } from './corpus.mjs';
import { encodeExportRequest, decodeExportRequest, decodeExportRequestTree, encodeResourceLogsJsonInto, JsonByteWriter } from '@tributary/otlp';
const reqs = makeBatches().map((rls) => Buffer.from(encodeExportRequest({ resourceLogs: rls })));
const w = new JsonByteWriter(1 << 20);
const N = reqs.length * 1000;
function cpu(f) { const t0 = process.cpuUsage(); f(); const c = process.cpuUsage(t0); return Math.round(N / ((c.user + c.system) / 1e6)); }
const out = { wireDecode: [], treeDecode: [], wireEncode: [], treeEncode: [] };
const wires = reqs.map(decodeExportRequest), trees = reqs.map(decodeExportRequestTree);
for (let i = 0; i < 9; i++) {
  out.wireDecode.push(cpu(() => { for (const b of reqs) decodeExportRequest(b); }));
  out.treeDecode.push(cpu(() => { for (const b of reqs) decodeExportRequestTree(b); }));
  out.wireEncode.push(cpu(() => { for (const r of wires) { w.reset(); for (const rl of r.resourceLogs) encodeResourceLogsJsonInto(rl, w); } }));
  out.treeEncode.push(cpu(() => { for (const r of trees) { w.reset(); for (const rl of r.resourceLogs) encodeResourceLogsJsonInto(rl, w); } }));
}
for (const k of Object.keys(out)) { const a = out[k].sort((x, y) => x - y); console.log(k, a[a.length >> 1]); }
