/**
 * Sums Prometheus text expositions of several worker processes into one: samples with the same name and
 * labels are added (counters, gauges, histogram buckets/sums/counts all add up across processes), each
 * family keeps the HELP and TYPE of its first appearance.
 */
interface Family {
  header: string[];
  samples: Map<string, number>;
}

export function mergePrometheusTexts(texts: readonly string[]): string {
  const families = new Map<string, Family>();
  const familyOf = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { header: [], samples: new Map() };
      families.set(name, f);
    }
    return f;
  };
  for (const text of texts) {
    let current: Family | undefined;
    let currentName = '';
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
        const sp = line.indexOf(' ', 7);
        const name = sp < 0 ? line.slice(7) : line.slice(7, sp);
        if (name !== currentName) {
          currentName = name;
          current = familyOf(name);
        }
        if (current && current.header.length < 2 && !current.header.includes(line)) current.header.push(line);
        continue;
      }
      if (line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      const key = line.slice(0, space);
      const value = Number(line.slice(space + 1));
      const f = current ?? familyOf(key.split('{', 1)[0]!);
      f.samples.set(key, (f.samples.get(key) ?? 0) + value);
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    out.push(...f.header);
    for (const [key, value] of f.samples) out.push(`${key} ${value}`);
  }
  return out.join('\n') + '\n';
}
