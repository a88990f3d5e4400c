/**
 * The one list of headline metrics in `latest.json` (SPEC section 10), in report order. Each family may produce some;
 * a metric no family measured is written as null, never estimated.
 */
export const METRICS = [
  {
    key: 'diff_encode_vs_memcmp',
    unit: 'x',
    target: '<= 12',
    what: 'ecsync change detection + encode cost / memcmp of the same state (tick-cost, 10k entities, 10 % changed)',
  },
  {
    key: 'diff_encode_vs_memcmp_1pct',
    unit: 'x',
    target: 'report',
    what: 'as diff_encode_vs_memcmp with 1 % of the entities changed per tick (full raw scan, user-owned arrays)',
  },
  {
    key: 'diff_encode_vs_memcmp_50pct',
    unit: 'x',
    target: 'report',
    what: 'as diff_encode_vs_memcmp with 50 % of the entities changed per tick',
  },
  {
    key: 'diff_encode_owned_vs_memcmp',
    unit: 'x',
    target: 'report',
    what: 'as diff_encode_vs_memcmp (10 %) with the Pose in createReplicatedStore: WASM SIMD raw scan',
  },
  {
    key: 'diff_encode_owned_js_vs_memcmp',
    unit: 'x',
    target: 'report',
    what: 'as diff_encode_owned_vs_memcmp with { wasm: false }: the JS fallback scan over the one buffer',
  },
  {
    key: 'diff_encode_marks_vs_memcmp_1pct',
    unit: 'x',
    target: 'report',
    what: "1 % changed, Pose registered with changes: 'marked', markChanged() of each moved entity timed",
  },
  {
    key: 'speedup_vs_bitecs_soa',
    unit: 'x',
    target: '>= 100',
    what: 'bitecs createSoASerializer({diff: true}) cost / ecsync cost, same world changes',
  },
  {
    key: 'speedup_vs_colyseus_schema',
    unit: 'x',
    target: '>= 4',
    what: '@colyseus/schema encode cost / ecsync cost, same world changes',
  },
  { key: 'bytes_per_changed_pose', unit: 'B', target: '<= 10', what: 'bytes per changed pose (1 mm, ~0.1 degree)' },
  {
    key: 'bytes_per_moving_pose_delta',
    unit: 'B',
    target: '<= 6',
    what: 'server-to-viewer bytes per moving pose, whole entity block (id, masks, values), 16-user room at 60 Hz, 100 ms RTT / 20 ms jitter / 2 % loss',
  },
  {
    key: 'owner_uplink_bytes_per_message',
    unit: 'B',
    target: 'report',
    what: 'mean owner-to-server InputPoses message (tag, absolute pose and redundant ticks included), 100 ms RTT / 2 % loss',
  },
  { key: 'bytes_per_avatar', unit: 'B', target: '<= 30', what: 'bytes per avatar (head + two controllers)' },
  {
    key: 'kbps_per_client_16_users_60hz',
    unit: 'kbps',
    target: '<= 100',
    what: 'downstream per client in a 16-user room at 60 Hz, ecsync headers included',
  },
  {
    key: 'kbps_per_client_32_users_fidelity',
    unit: 'kbps',
    target: 'report',
    what: 'downstream per client in a 32-user room (31 m across) at 60 Hz with fidelity by distance',
  },
  {
    key: 'remote_hand_rms_mm',
    unit: 'mm',
    target: '<= 2',
    what: "RMS error of a rendered remote hand vs the owner's true pose at (viewer time - display delay) on a common clock (100 ms RTT, 20 ms jitter, 2 % loss)",
  },
  {
    key: 'display_delay_excess_ms',
    unit: 'ms',
    target: '<= 0',
    what: 'worst row (0/50/100/200 ms RTT) of display delay minus (one-way latency + owner send interval + server send interval + 2x jitter)',
  },
  {
    key: 'max_jump_excess_mm',
    unit: 'mm',
    target: '<= 2',
    what: 'worst row (0/50/100/200 ms RTT) of the largest frame-to-frame rendered jump minus the true motion in that frame',
  },
  {
    key: 'bytes_per_tracked_hand',
    unit: 'B',
    target: '<= 16',
    what: 'owner-to-server HandInput bytes per moving tracked hand (tag and shared header included), 30 Hz, 100 ms RTT / 20 ms jitter / 2 % loss',
  },
  {
    key: 'hand_joint_error_mm',
    unit: 'mm',
    target: '<= 5',
    what: "p95 fingertip error of the hand codec (calibrated skeleton, fit, quantize, rebuild): the worse of a synthetic adult hand and IWER's recorded Quest hand",
  },
  {
    key: 'clients_per_core_20hz',
    unit: 'clients',
    target: '>= 5000',
    what: 'clients served at 20 Hz by the replication logic on one core, each with its own interest set',
  },
  {
    key: 'transport_clients_60hz_geckos',
    unit: 'clients',
    target: 'report',
    what: 'clients a geckos.io transport sustains at 60 Hz on this machine',
  },
] as const;

/** A headline metric's key. */
export type MetricKey = (typeof METRICS)[number]['key'];

/** Every headline metric, a number or null when not measured. */
export type Metrics = Record<MetricKey, number | null>;

/** The metric keys, in report order. */
export const METRIC_KEYS: readonly MetricKey[] = METRICS.map((m) => m.key);

/** A metrics object with every key null. */
export function emptyMetrics(): Metrics {
  return Object.fromEntries(METRIC_KEYS.map((k) => [k, null])) as Metrics;
}

/** Whether `key` is a headline metric key. */
export function isMetricKey(key: string): key is MetricKey {
  return (METRIC_KEYS as readonly string[]).includes(key);
}
