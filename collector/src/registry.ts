/**
 * Component registry (Fastify-style): built-ins and plugins register factories by type name through the
 * same call, and config validation looks types up here.
 */
import type { AnyFactory, ComponentKind } from './component.js';

export class ComponentRegistry {
  private readonly factories = new Map<string, AnyFactory>();

  register(factory: AnyFactory): this {
    const key = `${factory.kind}:${factory.type}`;
    if (this.factories.has(key)) throw new Error(`${factory.kind} type "${factory.type}" is already registered`);
    if (!/^[a-z][a-z0-9_]*$/.test(factory.type)) throw new Error(`invalid component type name "${factory.type}"`);
    this.factories.set(key, factory);
    return this;
  }

  get(kind: ComponentKind, type: string): AnyFactory | undefined {
    return this.factories.get(`${kind}:${type}`);
  }

  list(): AnyFactory[] {
    const order: ComponentKind[] = ['receiver', 'processor', 'exporter', 'extension'];
    return [...this.factories.values()].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.type.localeCompare(b.type));
  }

  typesOf(kind: ComponentKind): string[] {
    return this.list().filter((f) => f.kind === kind).map((f) => f.type);
  }
}
