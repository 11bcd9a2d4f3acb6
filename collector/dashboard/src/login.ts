/** Login: paste a token (kept for this tab only); the tenant switcher lists only the token's tenants. */
import { ApiError, session, whoami } from './api.js';
import { h } from './dom.js';
import type { View } from './view.js';

export class LoginView implements View {
  readonly title = 'Sign in';
  readonly el: HTMLElement;

  constructor(private readonly onDone: () => void, reason?: string) {
    const token = h('textarea', { id: 'token', name: 'token', rows: 4, autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-help login-error' });
    const error = h('p', { id: 'login-error', class: 'error', role: 'alert', hidden: !reason }, reason ?? '');
    const form = h('form', { class: 'login', onsubmit: (e) => {
      e.preventDefault();
      void (async () => {
        session.token = token.value.trim();
        session.tenant = null;
        try {
          await whoami();
          this.onDone();
        } catch (err) {
          session.token = null;
          error.textContent = err instanceof ApiError && err.status === 401 ? `The collector refused this token: ${err.message}` : (err as Error).message;
          error.hidden = false;
          token.focus();
        }
      })();
    } },
    h('label', { for: 'token' }, 'Access token (JWT)'), token,
    h('p', { id: 'token-help', class: 'muted' }, 'The token is kept in this browser tab only and sent to this collector as Authorization: Bearer. It decides which tenants you can see.'),
    error,
    h('button', { type: 'submit', id: 'sign-in' }, 'Sign in'));
    this.el = h('section', { class: 'view login-view', 'aria-labelledby': 'login-h' }, h('h2', { id: 'login-h' }, 'Sign in'), form);
  }

  mount(): void {
    this.el.querySelector('textarea')?.focus();
  }

  unmount(): void {}
}
