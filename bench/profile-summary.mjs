// Self time of a .cpuprofile by category (GC, protobuf decode, OTLP/JSON encode, HTTP, our code by
// folder, dependencies) and the top functions. Shares are of busy time (idle excluded).
import path from 'node:path';

function category(cf) {
  const fn = cf.functionName ?? '';
  const url = cf.url ?? '';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)' || fn === '(root)') return 'VM/native (program)';
  if (/otlp\.cjs|protobufjs|protobuf-codec/.test(url)) return 'decode (protobuf)';
  if (/json-buffer-encoder|json-codec/.test(url)) return 'encode (OTLP/JSON)';
  if (url.startsWith('node:')) {
    if (/http|net|stream|socket|tcp|_tls|events/.test(url)) return 'HTTP/net/streams (node core)';
    if (/fs/.test(url)) return 'fs (node core)';
    return 'node core other';
  }
  let m = /\/collector\/dist\/([^/]+)\/([^/]+)/.exec(url);
  if (m) return `our code: ${m[1]}/${['processors', 'exporters', 'receivers'].includes(m[1]) ? m[2] : ''}`.replace(/\.js$/, '').replace(/\/$/, '');
  if (url.includes('/packages/otlp/dist/')) return `our code: otlp/${path.basename(url, '.js')}`;
  m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return `deps: ${m[1]}`;
  if (!url) {
    if (['utf8Slice', 'latin1Slice', 'asciiSlice'].includes(fn)) return 'decode (protobuf)';
    if (['utf8Write', 'latin1Write'].includes(fn) || fn.startsWith('RegExp:')) return 'encode (OTLP/JSON) / regexps';
    if (['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'shutdown', 'readStop', 'readStart'].includes(fn)) return 'HTTP/net/streams (node core)';
    if (['writeBuffers', 'fdatasync', 'open', 'close', 'fstat'].includes(fn)) return 'fs (node core)';
    return 'native builtins (other)';
  }
  return 'other';
}

export function summarize(prof, top = 25) {
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < prof.samples.length; i++) selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + Math.max(prof.timeDeltas[i + 1] ?? 0, 0));
  const byFn = new Map();
  const byCat = new Map();
  for (const [id, us] of selfUs) {
    const cf = nodes.get(id).callFrame;
    const short = (cf.url ?? '').replace(/^.*\/(collector\/dist|packages\/otlp\/dist|packages\/otlp\/generated|node_modules)\//, '$1/');
    const key = `${cf.functionName || '(anonymous)'}  ${cf.url ? `${short}:${cf.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const c = category(cf);
    byCat.set(c, (byCat.get(c) ?? 0) + us);
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const busy = total - (byCat.get('idle') ?? 0);
  console.log(`\nmain thread: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (shares are of busy time)`);
  console.log('\nself time by category:');
  for (const [c, us] of [...byCat].sort((a, b) => b[1] - a[1])) if (c !== 'idle') console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${c}`);
  console.log(`\ntop ${top} functions by self time:`);
  for (const [k, us] of [...byFn].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}`);
}
