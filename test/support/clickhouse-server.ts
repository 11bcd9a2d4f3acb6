/**
 * Starts Debian's `clickhouse-server` (an old release, 18.16 here) on free ports with a temp data dir, for
 * process-level tests of the clickhouse exporter through the real HTTP interface. `findClickHouseServer()`
 * says whether a binary is installed (tests skip locally with a printed reason when not; CI installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, tempDir, waitFor } from './collector-process.js';

const CANDIDATES = ['/usr/bin/clickhouse', '/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server'];

/** The command to run a server: `[binary, ...argsBeforeConfig]`, or undefined when none is installed. */
export function findClickHouseServer(): string[] | undefined {
  for (const c of CANDIDATES) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c.endsWith('/clickhouse') ? [c, 'server'] : [c];
    } catch {
      // next
    }
  }
  return undefined;
}

export interface RunningClickHouse {
  /** `http://127.0.0.1:<port>` */
  url: string;
  httpPort: number;
  dir: string;
  user: string;
  password: string;
  /** Runs a query through the HTTP interface and returns the body text (throws on non-200). */
  query(sql: string): Promise<string>;
  version: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startClickHouse(options: { password?: string } = {}): Promise<RunningClickHouse> {
  const cmd = findClickHouseServer();
  if (!cmd) throw new Error('no clickhouse-server binary installed');
  const dir = tempDir('trib-clickhouse-');
  const httpPort = await freePort();
  const tcpPort = await freePort();
  const interPort = await freePort();
  const user = 'tributary';
  const password = options.password ?? 'ch-test-pass-7f3a';
  for (const d of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const config = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/log/server.log</log><errorlog>${dir}/log/server.err.log</errorlog><size>100M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <interserver_http_port>${interPort}</interserver_http_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <max_server_memory_usage>1000000000</max_server_memory_usage>
</yandex>
`;
  const users = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <${user}><password>${password}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></${user}>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
  fs.writeFileSync(path.join(dir, 'config.xml'), config);
  fs.writeFileSync(path.join(dir, 'users.xml'), users);
  const child: ChildProcess = spawn(cmd[0]!, [...cmd.slice(1), `--config-file=${path.join(dir, 'config.xml')}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => { exited = true; resolve(); }));
  const url = `http://127.0.0.1:${httpPort}`;
  const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const query = async (sql: string): Promise<string> => {
    const res = await fetch(url + '/', { method: 'POST', body: sql, headers: { authorization: auth } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`ClickHouse HTTP ${res.status}: ${text}`);
    return text;
  };
  const readLog = (): string => {
    let s = out;
    for (const f of ['server.err.log']) {
      try { s += fs.readFileSync(path.join(dir, 'log', f), 'utf8'); } catch { /* none */ }
    }
    return s;
  };
  try {
    await waitFor('clickhouse-server HTTP interface', async () => {
      if (exited) throw new Error(`clickhouse-server exited early:\n${readLog()}`);
      const res = await fetch(`${url}/ping`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 30_000, 100);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const version = (await query('SELECT version()')).trim();
  return {
    url, httpPort, dir, user, password, query, version, log: readLog,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
