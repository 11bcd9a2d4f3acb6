/**
 * Component registry (Fastify-style): built-ins and plugins register factories by type name through the
 * same call, and config validation looks types up here.
 */
import type { AnyFactory, ComponentKind } from './component.js';
import { withExporterHelperKeys } from './pipeline/exporter-helper-config.js';

/** Where a factory came from: `built-in`, or the plugin spec from the config's `plugins:` list. */
export const BUILT_IN = 'built-in';

export class ComponentRegistry {
  private readonly factories = new Map<string, AnyFactory>();
  private readonly origins = new Map<string, string>();

  register(factory: AnyFactory, origin: string = BUILT_IN): this {
    const key = `${factory.kind}:${factory.type}`;
    const taken = this.origins.get(key);
    if (taken !== undefined) throw new Error(`${factory.kind} type "${factory.type}" is already registered (${taken})`);
    if (!/^[a-z][a-z0-9_]*$/.test(factory.type)) throw new Error(`invalid component type name "${factory.type}"`);
    // Every exporter takes the helper keys, whether or not its own schema lists them.
    const f: AnyFactory =
      factory.kind === 'exporter'
        ? (Object.create(factory, { configSchema: { value: withExporterHelperKeys(factory.configSchema), enumerable: true } }) as AnyFactory)
        : factory;
    this.factories.set(key, f);
    this.origins.set(key, origin);
    return this;
  }

  originOf(kind: ComponentKind, type: string): string | undefined {
    return this.origins.get(`${kind}:${type}`);
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
