/**
 * Registering replicated components. Both peers import one shared protocol module that registers the same
 * components in the same order; the result is a canonical manifest and a 64-bit schema hash checked at connect.
 *
 * @example
 * const protocol = createProtocol();
 * const Pose = { px: new Float32Array(N), py: ..., qx: ..., qy: ..., qz: ..., qw: ... };
 * registerComponent(protocol, Pose, { name: 'Pose', fields: {
 *   px: field.quantized(-32, 32, 0.001), py: field.quantized(-32, 32, 0.001), pz: field.quantized(-32, 32, 0.001),
 *   rot: field.quat(['qx', 'qy', 'qz', 'qw']) } });
 */
import { MAX_SHORT_STRING_BYTES } from './codec/short-string.ts';
import { usageError } from './errors.ts';
import { columnMismatch, columnTypeName } from './protocol/field-columns.ts';
import { type FieldSpec, fieldManifest, MAX_ENUM_VALUES } from './protocol/field-schema.ts';
import { canonicalJson, hash64 } from './protocol/schema-hash.ts';
import { compileField, type CompiledField, type NumericArray } from './replication/compiled-field.ts';

/** Version of the manifest format itself; part of the hash. */
export const MANIFEST_VERSION = 1;

/** Field change masks are u32, so a component has at most 32 replicated fields. */
export const MAX_FIELDS_PER_COMPONENT = 32;

/** Component ids travel in a u8-sized space in snapshots; 255 components is far more than any room needs. */
export const MAX_COMPONENTS = 255;

/** What the user says about one replicated component. */
export interface ComponentRegistration {
  /** Stable name, the same on every peer. */
  readonly name: string;
  /** Fields in wire order. Empty for a tag component (replicates presence only). */
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /**
   * How the server finds this component's changes: `'scan'` (default) compares every replicated entity's raw
   * values each send tick; `'marked'` compares only the entities marked with `markChanged(world, component, eid)`
   * (and those an owner's write touched) since the last tick, for sparse worlds where few entities move. With
   * `'marked'`, a write the application does not mark is NOT sent. A server-side choice: not part of the schema
   * hash, ignored by clients, and components with entity-reference fields always compare every entity.
   */
  readonly changes?: 'scan' | 'marked';
}

/** A registered component: its wire id, its bitecs store and its compiled fields. */
export interface RegisteredComponent {
  /** Wire id of the component: its index in registration order. */
  readonly id: number;
  /** Name of the component, as registered (part of the schema hash). */
  readonly name: string;
  /** The bitecs store: an object of arrays indexed by entity id. */
  readonly store: object;
  /** The component's fields, compiled, in declaration order. */
  readonly fields: readonly CompiledField[];
  /** Mask with one bit per field. */
  readonly allFieldsMask: number;
  /** True when a field is a short string: the component travels only in reliable Deltas. */
  readonly reliable: boolean;
  /** How the server finds its changes (see `ComponentRegistration.changes`). */
  readonly changes: 'scan' | 'marked';
}

/** The shared protocol: the ordered list of replicated components, its manifest and hash. */
export interface Protocol {
  /** The replicated components, in registration order (the same on every peer). */
  readonly components: readonly RegisteredComponent[];
  /** Canonical manifest (components and fields in registration order). */
  readonly manifest: {
    /** Version of the manifest format. */
    version: number;
    /** Each component's canonical entry: its name and its fields' manifests. */
    components: unknown[];
  };
  /** 64-bit schema hash as 16 hex digits; changes with any registration difference. */
  readonly schemaHash: string;
  /** True once a plugin started using the protocol; registering afterwards throws. */
  readonly frozen: boolean;
}

interface MutableProtocol extends Protocol {
  components: RegisteredComponent[];
  manifest: { version: number; components: unknown[] };
  schemaHash: string;
  frozen: boolean;
  byStore: Map<object, RegisteredComponent>;
}

/** Creates an empty protocol to register replicated components into. */
export function createProtocol(): Protocol {
  const p: MutableProtocol = {
    components: [],
    manifest: { version: MANIFEST_VERSION, components: [] },
    schemaHash: hash64(canonicalJson({ version: MANIFEST_VERSION, components: [] })),
    frozen: false,
    byStore: new Map(),
  };
  return p;
}

function asMutable(protocol: Protocol): MutableProtocol {
  return protocol as MutableProtocol;
}

function isNumericArray(value: unknown): value is NumericArray {
  return ArrayBuffer.isView(value) || Array.isArray(value);
}

function checkSpec(name: string, key: string, spec: FieldSpec, store: Record<string, unknown>): void {
  const where = `component '${name}' field '${key}'`;
  const needArray = (k: string) => {
    if (!isNumericArray(store[k]))
      usageError(
        `${where}: the component has no array '${k}'`,
        `give the component an array property '${k}' (e.g. new Float32Array(maxEntities))`,
      );
    const wrong = columnMismatch(spec, store[k]);
    if (wrong !== null)
      usageError(
        `${where}: array '${k}' is a ${columnTypeName(store[k])}: ${wrong}`,
        'make the column a typed array that holds every value of the field kind, or change the field kind',
      );
  };
  switch (spec.kind) {
    case 'quantized': {
      const { min, max, precision } = spec;
      if (!Number.isFinite(min) || !Number.isFinite(max) || !(min < max))
        usageError(`${where}: quantized range [${min}, ${max}] is empty or not finite`, 'pass finite min < max');
      if (!Number.isFinite(precision) || !(precision > 0))
        usageError(`${where}: precision ${precision} must be a positive number`, 'pass e.g. 0.001 for 1 mm');
      if ((max - min) / precision > 0xffffffff)
        usageError(
          `${where}: range / precision needs more than 32 bits`,
          'use a coarser precision, a smaller range, or f32',
        );
      needArray(key);
      return;
    }
    case 'quat': {
      if (!Number.isInteger(spec.bits) || spec.bits < 4 || spec.bits > 15)
        usageError(`${where}: quaternion bits ${spec.bits} out of range`, 'use 4..15 bits per component (10 is ~0.1°)');
      if (spec.keys.length !== 4 || new Set(spec.keys).size !== 4)
        usageError(`${where}: a quaternion names four distinct arrays`, "pass keys like ['qx','qy','qz','qw']");
      for (const k of spec.keys) needArray(k);
      return;
    }
    case 'enum':
      if (spec.values.length < 1 || spec.values.length > MAX_ENUM_VALUES)
        usageError(`${where}: enum has ${spec.values.length} values`, `list between 1 and ${MAX_ENUM_VALUES} values`);
      if (new Set(spec.values).size !== spec.values.length)
        usageError(`${where}: enum values repeat`, 'list each value once');
      needArray(key);
      return;
    case 'shortString':
      if (!Number.isInteger(spec.maxBytes) || spec.maxBytes < 1 || spec.maxBytes > MAX_SHORT_STRING_BYTES)
        usageError(
          `${where}: short string maxBytes ${spec.maxBytes} out of range`,
          `pass a whole number of UTF-8 bytes from 1 to ${MAX_SHORT_STRING_BYTES} (e.g. 32 for a display name)`,
        );
      if (!Array.isArray(store[key]))
        usageError(
          `${where}: a short-string field needs a plain array property '${key}'`,
          `give the component e.g. { ${key}: [] as string[] }, indexed by entity id like the typed arrays`,
        );
      return;
    default:
      needArray(key);
  }
}

/**
 * Registers `component` (a bitecs SoA component: an object of typed arrays, or `{}` for a tag) for replication.
 * Throws a `NetError` (Usage) for duplicate names or stores, bad ranges, missing arrays, or after the protocol froze.
 */
export function registerComponent(
  protocol: Protocol,
  component: object,
  registration: ComponentRegistration,
): RegisteredComponent {
  const p = asMutable(protocol);
  const { name, fields } = registration;
  if (p.frozen)
    usageError(
      `cannot register '${name}': the protocol is already in use by a network plugin`,
      'register every component in the shared protocol module before creating the plugin',
    );
  if (typeof name !== 'string' || name.length === 0)
    usageError('a replicated component needs a name', 'pass { name: "Pose", fields: {...} }');
  if (p.components.some((c) => c.name === name))
    usageError(`component name '${name}' is registered twice`, 'give each replicated component a unique name');
  if (p.byStore.has(component))
    usageError(
      `the same component object is registered twice (as '${p.byStore.get(component)!.name}' and '${name}')`,
      'register each component once',
    );
  if (p.components.length >= MAX_COMPONENTS)
    usageError(`more than ${MAX_COMPONENTS} replicated components`, 'merge small components');
  const changes = registration.changes ?? 'scan';
  if (changes !== 'scan' && changes !== 'marked')
    usageError(`component '${name}': changes must be 'scan' or 'marked', not ${String(changes)}`, "pass 'marked'");
  const keys = Object.keys(fields);
  if (keys.length > MAX_FIELDS_PER_COMPONENT)
    usageError(
      `component '${name}' has ${keys.length} fields`,
      `split it: at most ${MAX_FIELDS_PER_COMPONENT} fields per component`,
    );
  const store = component as Record<string, unknown>;
  const compiled: CompiledField[] = [];
  const manifestFields: unknown[] = [];
  for (const key of keys) {
    const spec = fields[key];
    checkSpec(name, key, spec, store);
    compiled.push(compileField(key, spec, store, p.components.length, compiled.length));
    manifestFields.push(fieldManifest(key, spec));
  }
  const registered: RegisteredComponent = {
    id: p.components.length,
    name,
    store: component,
    fields: compiled,
    allFieldsMask: keys.length === 32 ? 0xffffffff : (1 << keys.length) - 1,
    reliable: compiled.some((f) => f.strings !== null),
    changes,
  };
  p.components.push(registered);
  p.byStore.set(component, registered);
  p.manifest.components.push({ name, fields: manifestFields });
  p.schemaHash = hash64(canonicalJson(p.manifest));
  return registered;
}

/** Marks the protocol as in use; later registrations throw. Called by the plugin. */
export function freezeProtocol(protocol: Protocol): void {
  asMutable(protocol).frozen = true;
}

/** The registration of a component store, or undefined if it is not replicated. */
export function registeredComponentOf(protocol: Protocol, component: object): RegisteredComponent | undefined {
  return asMutable(protocol).byStore.get(component);
}
