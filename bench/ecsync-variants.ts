/**
 * ecsync's detection paths on the tick-cost workload, besides the headline method (ecsync-method.ts, user-owned
 * Float32Arrays, full raw scan): the same server work (acks, detectChanges, priority, tokens, writeDelta into real
 * packets) with the Pose in an ecsync-owned store (WASM SIMD scan, or its JS kernel), and with change marks.
 */
import { changeDetectionOf, markChanged } from '../src/index.ts';
import { POSITION_TOLERANCE_M, createEcsyncPoseServer } from './ecsync-pose-server.ts';
import type { EcsyncPoseServer } from './ecsync-pose-server.ts';
import type { TickMethod } from './tick-method.ts';
import type { PoseWorkload } from './workload.ts';

function variant(
  name: string,
  description: string,
  workload: TickMethod['workload'],
  changes: 'scan' | 'marked',
  expected: string,
): TickMethod {
  return {
    name,
    description,
    tolerance: POSITION_TOLERANCE_M,
    workload,
    create(w: PoseWorkload) {
      let server: EcsyncPoseServer | undefined;
      const seed = w.entities;
      const marks = changes === 'marked';
      return {
        setup() {
          server = createEcsyncPoseServer(w, seed, changes);
          const kind = changeDetectionOf(w.world, w.Pose);
          if (kind !== expected) throw new Error(`${name}: change detection is '${kind}', expected '${expected}'`);
        },
        beforeTick() {
          server!.settle();
        },
        tick() {
          if (marks) {
            // The application marks what it wrote: timed here, so marking is not free.
            const changed = w.changed;
            for (let i = 0; i < changed.length; i++) markChanged(w.world, w.Pose, changed[i]);
          }
          return { bytes: server!.packAll().linkBytes };
        },
        check() {
          return server!.maxError();
        },
      };
    },
  };
}

/** ecsync, Pose in `createReplicatedStore` (columns and raw copies in one WebAssembly.Memory): the WASM SIMD scan. */
export const ecsyncOwnedMethod = variant(
  'ecsync-owned',
  'as ecsync, Pose allocated by createReplicatedStore (one WebAssembly.Memory): WASM SIMD raw scan',
  { storage: 'owned', wasm: true },
  'scan',
  'wasm-simd',
);

/** ecsync, the owned store without WebAssembly: the JS kernel over one Float64 view (the no-SIMD / CSP fallback). */
export const ecsyncOwnedJsMethod = variant(
  'ecsync-owned-js',
  'as ecsync-owned with { wasm: false }: the JS scan over one buffer (fallback without WebAssembly SIMD)',
  { storage: 'owned', wasm: false },
  'scan',
  'js',
);

/** ecsync with `changes: 'marked'`: no raw scan; the application marks each entity it moved (timed). */
export const ecsyncMarksMethod = variant(
  'ecsync-marks',
  "as ecsync, Pose registered with changes: 'marked'; markChanged() of every moved entity inside the timed tick",
  undefined,
  'marked',
  'marks',
);

/** The variants, in table order. */
export const ECSYNC_VARIANT_METHODS: readonly TickMethod[] = [
  ecsyncOwnedMethod,
  ecsyncOwnedJsMethod,
  ecsyncMarksMethod,
];
