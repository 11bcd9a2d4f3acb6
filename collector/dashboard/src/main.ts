/** The dashboard page: header (views, tenant switcher), one view at a time, chosen by the URL hash. */
import { AlertsView } from './alerts.js';
import { ApiError, session, whoami } from './api.js';
import { announce, h } from './dom.js';
import { LoginView } from './login.js';
import { LogsView } from './logs.js';
import { OverviewView } from './overview.js';
import type { View } from './view.js';

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const tenantBox = document.getElementById('tenant-box')!;
let current: View | undefined;
/** Where a link (e.g. an alert notification's) pointed, kept across signing in. */
let wanted: { hash: string; tenant: string | null } | undefined;

const ROUTES: Readonly<Record<string, (params: URLSearchParams) => View>> = {
  overview: () => new OverviewView(),
  logs: (p) => new LogsView(p.get('query') ?? '', Date.parse(p.get('start') ?? ''), Date.parse(p.get('end') ?? '')),
  alerts: () => new AlertsView(),
};

function show(view: View): void {
  current?.unmount();
  current = view;
  main.replaceChildren(view.el);
  document.title = `${view.title} · Tributary`;
  view.mount();
}

function route(): void {
  const [name = 'overview', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const w = session.whoami;
  if (name === 'login' || !w) {
    show(new LoginView(() => {
      applyWanted();
      renderHeader();
      location.hash = wanted?.hash ?? '#/overview';
      wanted = undefined;
      route();
    }));
    return;
  }
  const make = ROUTES[name] ?? ROUTES.overview!;
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  show(make(new URLSearchParams(query)));
  announce('');
}

function renderHeader(): void {
  const w = session.whoami;
  if (!w) {
    tenantBox.replaceChildren();
    return;
  }
  const select = h('select', { id: 'tenant', name: 'tenant' });
  if (w.all_tenants) select.append(h('option', { value: '' }, 'all tenants'));
  for (const t of w.tenants) select.append(h('option', { value: t, selected: t === session.tenant }, t));
  select.addEventListener('change', () => {
    session.tenant = select.value || null;
    announce(`Tenant: ${select.value || 'all'}`);
    route();
  });
  tenantBox.replaceChildren(h('label', { for: 'tenant' }, 'Tenant'), select);
  if (w.auth) tenantBox.append(
    h('span', { class: 'muted', id: 'subject' }, w.subject ?? ''),
    h('button', { type: 'button', id: 'sign-out', onclick: () => { session.token = null; session.tenant = null; session.whoami = undefined; renderHeader(); location.hash = '#/login'; route(); } }, 'Sign out'),
  );
}

/** Links to a search (`/?query=…&start=…&end=…&tenant=…`) open the Logs view on it. */
function readLink(): void {
  const p = new URLSearchParams(location.search);
  if (!p.has('query') && !p.has('start')) return;
  const q = new URLSearchParams();
  for (const k of ['query', 'start', 'end']) {
    const v = p.get(k);
    if (v !== null) q.set(k, v);
  }
  wanted = { hash: `#/logs?${q.toString()}`, tenant: p.get('tenant') };
  history.replaceState(null, '', `/${wanted.hash}`);
}

/** The link's tenant, if the token may read it (never asked for otherwise). */
function applyWanted(): void {
  const w = session.whoami;
  if (!wanted?.tenant || !w) return;
  if (w.all_tenants || w.tenants.includes(wanted.tenant)) session.tenant = wanted.tenant;
  else announce(`This link is for tenant "${wanted.tenant}", which your token cannot read`);
}

async function start(): Promise<void> {
  readLink();
  try {
    await whoami();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) announce(`Cannot reach the collector: ${(err as Error).message}`);
  }
  if (session.whoami) {
    applyWanted();
    wanted = undefined;
  }
  renderHeader();
  window.addEventListener('hashchange', route);
  route();
}

void start();
