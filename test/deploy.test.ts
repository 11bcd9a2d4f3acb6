/**
 * The deployment examples in examples/deploy: the systemd unit passes `systemd-analyze verify`, the
 * Dockerfile and the Kubernetes manifests start the collector the way the CLI expects (image, args, ports,
 * probes on health_check, a volume under the disk queue), and every config they carry is valid.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { cliPath, repoRoot, tempDir } from './support/collector-process.js';

const DEPLOY = path.join(repoRoot, 'examples/deploy');
const VERSION = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'collector/package.json'), 'utf8')) as { version: string }).version;
const tmp = tempDir('trib-deploy-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `tributary validate` on a config text, with the given environment; returns the CLI's output. */
function validate(name: string, text: string, env: NodeJS.ProcessEnv = {}): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return execFileSync(process.execPath, [cliPath, 'validate', '--config', file], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: 'pipe' });
}

interface Config { extensions?: { file_storage?: { directory?: string }; health_check?: { endpoint?: string } }; receivers?: { otlp?: { protocols?: Record<string, { endpoint?: string }> } } }

const portOf = (endpoint: string | undefined): number => Number(endpoint?.split(':').pop());

describe('systemd unit', () => {
  it('passes systemd-analyze verify', (ctx) => {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      if (process.env['CI'] === 'true') throw new Error('systemd-analyze is not installed (apt-get install systemd)');
      console.warn('skipped: systemd-analyze is not installed (Debian package systemd)');
      ctx.skip();
      return;
    }
    const unit = fs.readFileSync(path.join(DEPLOY, 'tributary.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/tributary run --config \/etc\/tributary\/config\.yaml$/m);
    expect(unit).toMatch(/^StateDirectory=tributary$/m); // /var/lib/tributary: where config.yaml keeps the queue
    // verify checks that ExecStart's program exists: point it at an executable that does.
    const file = path.join(tmp, 'tributary.service');
    fs.writeFileSync(file, unit.replace('ExecStart=/usr/local/bin/tributary', `ExecStart=${process.execPath}`));
    const res = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    // Unknown keys and bad values are only warnings on stderr with exit code 0: both must be clean.
    expect(`${res.stdout}${res.stderr}`.trim()).toBe('');
    expect(res.status).toBe(0);
  });

  it('its config (also the Docker image config) is valid and keeps the queue under the state directory', () => {
    const text = fs.readFileSync(path.join(DEPLOY, 'config.yaml'), 'utf8');
    expect(validate('host.yaml', text)).toContain('is valid');
    expect(validate('host-container.yaml', text, { TRIBUTARY_LISTEN: '0.0.0.0', TRIBUTARY_UPSTREAM: 'https://gw.example.com' })).toContain('is valid');
    expect(text).toContain('${env:TRIBUTARY_QUEUE_DIR:-/var/lib/tributary/queue}');
  });
});

describe('Dockerfile', () => {
  const lines = fs.readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const instr = (name: string): string[] => lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());

  it('installs the packed tarballs and runs the installed tributary with the shipped config', () => {
    expect(instr('FROM')[0]).toMatch(/^node:(2[0-9])-/);
    const copy = instr('COPY')[0]?.split(/\s+/) ?? [];
    expect(copy).toEqual(expect.arrayContaining([`dist/packages/tributary-otlp-${VERSION}.tgz`, `dist/packages/tributary-collector-${VERSION}.tgz`]));
    expect(instr('COPY')).toContain('examples/deploy/config.yaml /etc/tributary/config.yaml');
    expect(JSON.parse(instr('ENTRYPOINT')[0] ?? '')).toEqual(['/opt/tributary/node_modules/.bin/tributary']);
    expect(JSON.parse(instr('CMD')[0] ?? '')).toEqual(['run', '--config', '/etc/tributary/config.yaml']);
  });

  it('exposes the config ports, checks health_check and keeps the queue on a volume', () => {
    const env = Object.fromEntries(instr('ENV').flatMap((e) => e.split(/\s+/)).map((kv) => kv.split('=') as [string, string]));
    const config = parseYaml(fs.readFileSync(path.join(DEPLOY, 'config.yaml'), 'utf8').replace(/\$\{env:([A-Z_]+):-([^}]*)\}/g, (_m, k: string, d: string) => env[k] ?? d)) as Config;
    const exposed = (instr('EXPOSE')[0] ?? '').split(/\s+/).map(Number);
    for (const p of Object.values(config.receivers?.otlp?.protocols ?? {})) expect(exposed).toContain(portOf(p.endpoint));
    expect(exposed).toContain(portOf(config.extensions?.health_check?.endpoint));
    expect(config.extensions?.health_check?.endpoint).toBe('0.0.0.0:13133');
    expect(instr('HEALTHCHECK')[0]).toContain('http://127.0.0.1:13133/');
    const volume = instr('VOLUME')[0] ?? '';
    expect(config.extensions?.file_storage?.directory?.startsWith(`${volume}/`)).toBe(true);
  });
});

describe('Kubernetes manifests', () => {
  type Container = { image: string; args: string[]; env?: { name: string; value?: string }[]; ports: { containerPort: number; hostPort?: number }[]; livenessProbe?: { httpGet?: { path: string; port: number } }; readinessProbe?: { httpGet?: { path: string; port: number } }; volumeMounts: { name: string; mountPath: string }[] };
  type Workload = { kind: string; metadata: { name: string }; spec: { template: { spec: { containers: Container[]; volumes: { name: string; configMap?: { name: string }; hostPath?: unknown; emptyDir?: unknown; persistentVolumeClaim?: unknown }[] } } }; data?: Record<string, string> };
  const docs = parseAllDocuments(fs.readFileSync(path.join(DEPLOY, 'kubernetes.yaml'), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Workload;
  });
  const byKind = (kind: string): Workload[] => docs.filter((d) => d.kind === kind);

  it('has an agent DaemonSet and a gateway Deployment behind a Service', () => {
    expect(byKind('DaemonSet').map((d) => d.metadata.name)).toEqual(['tributary-agent']);
    expect(byKind('Deployment').map((d) => d.metadata.name)).toEqual(['tributary-gateway']);
    expect(byKind('Service').map((d) => d.metadata.name)).toEqual(['tributary-gateway']);
  });

  for (const kind of ['DaemonSet', 'Deployment']) {
    it(`${kind}: image, args, ports, probes on health_check, config and queue volumes match its config`, () => {
      const w = byKind(kind)[0];
      expect(w).toBeDefined();
      if (!w) return;
      const pod = w.spec.template.spec;
      const c = pod.containers[0];
      expect(c?.image).toMatch(new RegExp(`/tributary:${VERSION.replace(/\./g, '\\.')}$`));
      expect(c?.args).toEqual(['run', '--config', '/etc/tributary/config.yaml']);
      const configVolume = pod.volumes.find((v) => v.configMap);
      const configMount = c?.volumeMounts.find((m) => m.name === configVolume?.name);
      expect(configMount?.mountPath).toBe('/etc/tributary');
      const cm = byKind('ConfigMap').find((m) => m.metadata.name === configVolume?.configMap?.name);
      const text = cm?.data?.['config.yaml'] ?? '';
      const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value ?? 'from-field']));
      expect(validate(`${kind}.yaml`, text, env)).toContain('is valid');
      const config = parseYaml(text) as Config;
      const ports = c?.ports.map((p) => p.containerPort) ?? [];
      for (const p of Object.values(config.receivers?.otlp?.protocols ?? {})) expect(ports).toContain(portOf(p.endpoint));
      const health = portOf(config.extensions?.health_check?.endpoint);
      expect(health).toBe(13133);
      expect(config.extensions?.health_check?.endpoint).toMatch(/^0\.0\.0\.0:/); // the kubelet probes the pod IP
      expect(c?.livenessProbe?.httpGet).toEqual({ path: '/', port: health });
      expect(c?.readinessProbe?.httpGet).toEqual({ path: '/', port: health });
      const queueDir = config.extensions?.file_storage?.directory ?? '';
      const queueMount = c?.volumeMounts.find((m) => queueDir.startsWith(`${m.mountPath}/`));
      expect(queueMount, `a volume mounted above ${queueDir}`).toBeDefined();
      const queueVolume = pod.volumes.find((v) => v.name === queueMount?.name);
      expect(queueVolume?.hostPath ?? queueVolume?.emptyDir ?? queueVolume?.persistentVolumeClaim).toBeDefined();
    });
  }
});
