/** The `email` notifier: SMTP through nodemailer (STARTTLS, implicit TLS or plain; optional auth). */
import type { z } from 'zod';
import type { Transporter } from 'nodemailer';
import { PermanentError, RetryableError } from '../../../errors.js';
import type { emailNotifierSchema } from '../config.js';
import type { Notification } from '../engine.js';
import { notAck, type Notifier, type NotifierContext } from './notifier.js';
import { notificationTitle, sampleLines } from './http-notifiers.js';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function emailContent(n: Notification): { subject: string; text: string; html: string } {
  const a = n.alert;
  const rows: [string, string][] = [['Rule', `${a.rule} (${a.kind})`], ['Severity', a.severity], ['Tenant', a.tenant], ['Value', String(a.value)], ['Since', a.fired_at ?? a.since]];
  for (const [k, v] of Object.entries(a.group)) rows.push([k, v]);
  const samples = sampleLines(n);
  const text = [a.annotations['summary'] ?? '', '', ...rows.map(([k, v]) => `${k}: ${v}`), '', 'Sample lines:', ...samples, '', `Search: ${n.link}`].join('\n');
  const html = `<p>${escapeHtml(a.annotations['summary'] ?? '')}</p><table>${rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`
    + `<pre>${escapeHtml(samples.join('\n'))}</pre><p><a href="${escapeHtml(n.link)}">Open in Tributary</a></p>`;
  return { subject: notificationTitle(n), text, html };
}

export class EmailNotifier implements Notifier {
  private transport: Transporter | undefined;
  readonly handles = notAck;
  constructor(readonly id: string, private readonly ctx: NotifierContext, private readonly c: z.output<typeof emailNotifierSchema>) {}

  private async open(): Promise<Transporter> {
    if (this.transport) return this.transport;
    const nodemailer = await import('nodemailer');
    const c = this.c;
    this.transport = nodemailer.createTransport({
      host: c.host,
      port: c.port,
      secure: c.security === 'tls',
      requireTLS: c.security === 'starttls',
      ignoreTLS: c.security === 'none',
      auth: c.username !== undefined ? { user: c.username, pass: c.password ?? '' } : undefined,
      tls: { rejectUnauthorized: !c.insecure_skip_verify },
      connectionTimeout: c.timeout,
      greetingTimeout: c.timeout,
      socketTimeout: c.timeout,
    });
    return this.transport;
  }

  async send(n: Notification, signal: AbortSignal): Promise<void> {
    const t = await this.open();
    const { subject, text, html } = emailContent(n);
    const sending = t.sendMail({ from: this.c.from, to: this.c.to, subject, text, html, headers: { 'X-Tributary-Alert': n.alert.id } });
    const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    try {
      await Promise.race([sending, aborted]);
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      const msg = `notifier ${this.id}: SMTP ${code ?? ''} ${(err as Error).message}`.replace(this.c.password ?? '\u0000', '***');
      // 5xx answers (bad recipient, refused auth) will not get better by retrying.
      if (code !== undefined && code >= 500) throw new PermanentError(msg);
      throw new RetryableError(msg);
    }
    this.ctx.logger.debug?.('alert e-mail sent', { notifier: this.id });
  }

  close(): Promise<void> {
    this.transport?.close();
    return Promise.resolve();
  }
}
