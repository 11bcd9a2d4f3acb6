/** What every view of the page implements. */
export interface View {
  readonly title: string;
  readonly el: HTMLElement;
  /** Called after `el` is in the document. */
  mount(): void;
  /** Stops timers and sockets. */
  unmount(): void;
}
