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
  /** `kind:alias` → type, for upstream's alternative spellings of a type name. */
  private readonly aliases = new Map<string, string>();

  register(factory: AnyFactory, origin: string = BUILT_IN): this {
    const key = `${factory.kind}:${factory.type}`;
    const taken = this.origins.get(key) ?? (this.aliases.has(key) ? 'an alias of a built-in type' : undefined);
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

  /** Makes `alias` another name of the registered `type` (as upstream keeps `otlp` for `otlp_grpc`). */
  alias(kind: ComponentKind, alias: string, type: string): this {
    if (!this.factories.has(`${kind}:${type}`)) throw new Error(`cannot alias ${kind} "${alias}": type "${type}" is not registered`);
    if (this.factories.has(`${kind}:${alias}`)) throw new Error(`${kind} type "${alias}" is already registered`);
    this.aliases.set(`${kind}:${alias}`, type);
    return this;
  }

  /** The registered type name `type` stands for (itself unless it is an alias). */
  canonicalType(kind: ComponentKind, type: string): string {
    return this.aliases.get(`${kind}:${type}`) ?? type;
  }

  /** Aliases of a registered type. */
  aliasesOf(kind: ComponentKind, type: string): string[] {
    const out: string[] = [];
    for (const [k, t] of this.aliases) if (t === type && k.startsWith(`${kind}:`)) out.push(k.slice(kind.length + 1));
    return out;
  }

  originOf(kind: ComponentKind, type: string): string | undefined {
    return this.origins.get(`${kind}:${this.canonicalType(kind, type)}`);
  }

  get(kind: ComponentKind, type: string): AnyFactory | undefined {
    return this.factories.get(`${kind}:${this.canonicalType(kind, type)}`);
  }

  list(): AnyFactory[] {
    const order: ComponentKind[] = ['receiver', 'processor', 'exporter', 'extension'];
    return [...this.factories.values()].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.type.localeCompare(b.type));
  }

  typesOf(kind: ComponentKind): string[] {
    return this.list().filter((f) => f.kind === kind).map((f) => f.type);
  }
}
