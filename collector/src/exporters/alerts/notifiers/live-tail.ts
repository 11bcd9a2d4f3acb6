/**
 * The `live_tail` notifier: an `{"type":"alert"}` frame to the tenant's live tail viewers (the in-app
 * channel). An acknowledgement sends the same frame with `event: "acknowledged"`, which marks it read.
 */
import { tailHub } from '../../../tail/hub.js';
import type { Notification } from '../engine.js';
import type { Notifier } from './notifier.js';

export function alertFrame(n: Notification): Record<string, unknown> {
  return { type: 'alert', event: n.kind, alert: n.alert, samples: n.samples, link: n.link };
}

export class LiveTailNotifier implements Notifier {
  constructor(readonly id: string) {}
  handles(): boolean {
    return true;
  }
  send(n: Notification): Promise<void> {
    tailHub.notify(n.alert.tenant, alertFrame(n));
    return Promise.resolve();
  }
}
