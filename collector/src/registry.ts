/**
 * Component registry (Fastify-style): built-ins and plugins register factories by type name through the
 * same call, and config validation looks types up here.
 */
import type { AnyFactory, ComponentKind } from './component.js';
import { withExporterHelperKeys } from './pipeline/exporter-helper-config.js';

/** Where a factory came from: `built-in`, or the plugin spec from the config's `plugins:` list. */
export const BUILT_IN = 'built-in';

/** Imports a component's module and returns its factory: a built-in costs nothing until a config uses it. */
export type FactoryLoader = () => Promise<AnyFactory>;

export class ComponentRegistry {
  private readonly factories = new Map<string, AnyFactory>();
  /** `kind:type` → loader, for registered types whose module is not imported yet. */
  private readonly lazy = new Map<string, FactoryLoader>();
  private readonly origins = new Map<string, string>();
  /** `kind:alias` → type, for upstream's alternative spellings of a type name. */
  private readonly aliases = new Map<string, string>();

  register(factory: AnyFactory, origin: string = BUILT_IN): this {
    this.claim(factory.kind, factory.type);
    this.add(factory, origin);
    return this;
  }

  /**
   * Registers a type whose factory comes from `load` (a dynamic import) the first time `load()` or
   * `loadAll()` asks for it. Until then `get()` throws: callers load what a config uses first.
   */
  registerLazy(kind: ComponentKind, type: string, load: FactoryLoader, origin: string = BUILT_IN): this {
    const key = this.claim(kind, type);
    this.lazy.set(key, load);
    this.origins.set(key, origin);
    return this;
  }

  /** Imports the module of a lazily registered type (or alias); undefined when the type is not registered. */
  async load(kind: ComponentKind, type: string): Promise<AnyFactory | undefined> {
    const key = `${kind}:${this.canonicalType(kind, type)}`;
    const loader = this.lazy.get(key);
    if (loader) {
      const factory = await loader();
      if (`${factory.kind}:${factory.type}` !== key) throw new Error(`the module registered as ${key} gave the factory ${factory.kind}:${factory.type}`);
      // A concurrent load may have finished first; either result is the same module's factory.
      if (this.lazy.delete(key)) this.add(factory, this.origins.get(key) ?? BUILT_IN);
    }
    return this.factories.get(key);
  }

  /** Imports every lazily registered type (`components`, docs generation, replay). */
  async loadAll(): Promise<this> {
    for (const key of [...this.lazy.keys()]) {
      const [kind, type] = key.split(':') as [ComponentKind, string];
      await this.load(kind, type);
    }
    return this;
  }

  /** Checks that `kind:type` is a free, valid name; returns the key. */
  private claim(kind: ComponentKind, type: string): string {
    const key = `${kind}:${type}`;
    const taken = this.origins.get(key) ?? (this.aliases.has(key) ? 'an alias of a built-in type' : undefined);
    if (taken !== undefined) throw new Error(`${kind} type "${type}" is already registered (${taken})`);
    if (!/^[a-z][a-z0-9_]*$/.test(type)) throw new Error(`invalid component type name "${type}"`);
    return key;
  }

  private add(factory: AnyFactory, origin: string): void {
    const key = `${factory.kind}:${factory.type}`;
    // Every exporter takes the helper keys, whether or not its own schema lists them.
    const f: AnyFactory =
      factory.kind === 'exporter'
        ? (Object.create(factory, { configSchema: { value: withExporterHelperKeys(factory.configSchema), enumerable: true } }) as AnyFactory)
        : factory;
    this.factories.set(key, f);
    this.origins.set(key, origin);
  }

  /** Makes `alias` another name of the registered `type` (as upstream keeps `otlp` for `otlp_grpc`). */
  alias(kind: ComponentKind, alias: string, type: string): this {
    if (!this.factories.has(`${kind}:${type}`) && !this.lazy.has(`${kind}:${type}`)) throw new Error(`cannot alias ${kind} "${alias}": type "${type}" is not registered`);
    if (this.origins.has(`${kind}:${alias}`)) throw new Error(`${kind} type "${alias}" is already registered`);
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
    const key = `${kind}:${this.canonicalType(kind, type)}`;
    if (this.lazy.has(key)) throw new Error(`${kind} type "${type}" is registered but its module is not loaded yet (await registry.load(kind, type) first)`);
    return this.factories.get(key);
  }

  /** Whether `type` (or an alias) is registered, loaded or not. */
  has(kind: ComponentKind, type: string): boolean {
    return this.origins.has(`${kind}:${this.canonicalType(kind, type)}`);
  }

  /** The loaded factories (`loadAll()` first for every built-in). */
  list(): AnyFactory[] {
    const order: ComponentKind[] = ['receiver', 'processor', 'exporter', 'extension'];
    return [...this.factories.values()].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.type.localeCompare(b.type));
  }

  /** Registered types of a kind, loaded or not, sorted. */
  typesOf(kind: ComponentKind): string[] {
    return [...this.origins.keys()].filter((k) => k.startsWith(`${kind}:`)).map((k) => k.slice(kind.length + 1)).sort((a, b) => a.localeCompare(b));
  }
}
