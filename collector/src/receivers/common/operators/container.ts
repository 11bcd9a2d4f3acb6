/**
 * The `container` operator: Docker json-file lines (`{"log":…,"stream":…,"time":…}`) and CRI lines
 * (`<time> <stream> <F|P> <message>`, containerd and CRI-O) into body, `log.iostream` and timestamp,
 * with partial lines (CRI `P`, Docker lines without a trailing newline) joined per file; Kubernetes pod
 * metadata from `/var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log` paths, and the container id from
 * `/var/lib/docker/containers/<id>/<id>-json.log` paths.
 */
import type { Entry } from '../records.js';

export type ContainerFormat = 'auto' | 'docker' | 'crio' | 'containerd';

const CRI_RE = /^(\S+) (stdout|stderr) ([^ ]*) ?(.*)$/s;
const POD_PATH_RE = /\/([^/_]+)_([^/_]+)_([a-f0-9-]+)\/([^/._]+)\/(\d+)\.log$/;
const DOCKER_PATH_RE = /\/containers\/([a-f0-9]{12,64})\/[a-f0-9]{12,64}-json\.log$/;
/** More pieces than this of one line are flushed as they are (a writer that never ends its line). */
const MAX_PARTS = 1000;

function parseRfc3339Nanos(s: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new Error(`container time "${s}" is not RFC 3339`);
  const ms = Date.parse(`${m[1]!}${m[3]!}`);
  if (Number.isNaN(ms)) throw new Error(`container time "${s}" is not a valid date`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

interface Pending { text: string; parts: number; entry: Entry }

export class ContainerParser {
  private readonly pending = new Map<string, Pending>();
  private readonly metaCache = new Map<string, Record<string, unknown> | null>();

  constructor(private readonly format: ContainerFormat, private readonly addMetadataFromFilePath: boolean) {}

  /** Returns the entry to pass on, or undefined while a line is still partial. Throws on a bad line. */
  process(e: Entry, source: string): Entry | undefined {
    const raw = e.body;
    if (typeof raw !== 'string') throw new Error('container: body is not a string');
    const fmt = this.format === 'auto' ? (raw.startsWith('{') ? 'docker' : 'cri') : this.format === 'docker' ? 'docker' : 'cri';
    let text: string;
    let partial: boolean;
    if (fmt === 'docker') {
      let obj: unknown;
      try {
        obj = JSON.parse(raw);
      } catch {
        throw new Error('container: line is not Docker json-file JSON');
      }
      const o = obj as { log?: unknown; stream?: unknown; time?: unknown };
      if (typeof o.log !== 'string') throw new Error('container: Docker line has no "log" string');
      partial = !o.log.endsWith('\n');
      text = partial ? o.log : o.log.slice(0, o.log.endsWith('\r\n') ? -2 : -1);
      if (typeof o.stream === 'string') e.attributes['log.iostream'] = o.stream;
      if (typeof o.time === 'string') e.timestamp = parseRfc3339Nanos(o.time);
    } else {
      const m = CRI_RE.exec(raw);
      if (!m) throw new Error('container: line is not in CRI format (<time> <stream> <F|P> <message>)');
      e.timestamp = parseRfc3339Nanos(m[1]!);
      e.attributes['log.iostream'] = m[2]!;
      partial = m[3] === 'P';
      text = m[4]!;
    }
    if (this.addMetadataFromFilePath) this.addMeta(e, source);
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the key only has to tell streams apart; any value's String() does
    const key = `${source}\u0000${String(e.attributes['log.iostream'] ?? '')}`;
    const prev = this.pending.get(key);
    if (partial) {
      if (prev) {
        prev.text += text;
        if (++prev.parts < MAX_PARTS) return undefined;
        this.pending.delete(key);
        prev.entry.body = prev.text;
        return prev.entry;
      }
      this.pending.set(key, { text, parts: 1, entry: e });
      return undefined;
    }
    if (prev) {
      this.pending.delete(key);
      prev.entry.body = prev.text + text;
      return prev.entry;
    }
    e.body = text;
    return e;
  }

  private addMeta(e: Entry, path: string): void {
    let meta = this.metaCache.get(path);
    if (meta === undefined) {
      meta = null;
      const pod = POD_PATH_RE.exec(path);
      if (pod) {
        meta = {
          'k8s.namespace.name': pod[1]!, 'k8s.pod.name': pod[2]!, 'k8s.pod.uid': pod[3]!,
          'k8s.container.name': pod[4]!, 'k8s.container.restart_count': pod[5]!,
        };
      } else {
        const d = DOCKER_PATH_RE.exec(path);
        if (d) meta = { 'container.id': d[1]! };
      }
      if (this.metaCache.size > 10_000) this.metaCache.clear();
      this.metaCache.set(path, meta);
    }
    if (meta) Object.assign(e.resource, meta);
  }
}
