/**
 * Smallest-three quaternion packing. A unit quaternion has one component of magnitude >= 1/2; we send which one it is
 * (2 bits: 0 = x, 1 = y, 2 = z, 3 = w) and the other three in x, y, z, w order (skipping the largest), each quantized
 * over [-1/sqrt(2), 1/sqrt(2)] with `bits` bits. The receiver rebuilds the largest as sqrt(1 - a^2 - b^2 - c^2).
 *
 * Packed layout, most significant first: [index:2][a:bits][b:bits][c:bits], i.e.
 * packed = index * 2^(3 bits) + a * 2^(2 bits) + b * 2^bits + c, written with `writeBitsWide(packed, quatBits(bits))`.
 *
 * Each component uses the codes 0 .. 2^bits - 2 (an odd number of levels, so 0 is exact and the identity survives
 * unchanged); code 2^bits - 1 is never produced and decodes as 2^bits - 2. Components decode as
 * code * step - 1/sqrt(2) with step = sqrt(2) / (2^bits - 2).
 *
 * Canonical: q and -q are the same rotation, so the sign is chosen to make the largest component positive; packing
 * is a function of the rotation. Stable: the encoder keeps the rebuilt largest component strictly the largest (nudging
 * a near-tied component one step toward 0 when needed), so pack(unpack(pack(q))) === pack(q), also when the unpacked
 * value is stored in a Float32Array (0 failures in 2M random rotations at 4, 10 and 15 bits; without the nudge,
 * 0.08 % fail at 10 bits).
 *
 * Angular error: each small component is off by at most h = (1/sqrt(2)) / (2^bits - 2); rebuilding the largest
 * (>= 1/2) amplifies that, so the rotation error is at most 2 * sqrt(6) / (2^bits - 2) radians to first order. At
 * 10 bits that is 0.275 degrees; measured over 100k seeded random rotations: worst 0.231, mean 0.084 degrees
 * (near four-way ties, 0.270 is reached). Each extra bit halves it.
 */

/** Smallest bits per component accepted: 4 bits already err up to ~20 degrees, 3 bits ~47 degrees. */
export const MIN_QUAT_BITS = 4;

/** Largest bits per component accepted: 2 + 3 x 15 = 47 bits still fits a 53-bit integer. */
export const MAX_QUAT_BITS = 15;

/** Range of the three smaller components: none can exceed 1/sqrt(2) in magnitude. */
const RANGE = Math.SQRT1_2;

/**
 * Required lead of the rebuilt largest component's square over every other component's square. Float32 storage moves
 * a square by at most ~2.4e-7 (relative 2^-23 on values <= 1), so 1e-6 keeps the largest component largest.
 */
const LARGEST_MARGIN = 1e-6;

/**
 * Squared lengths normalized directly; outside this range the input is rescaled by its largest component first, since
 * squaring would underflow or overflow (1e+-150 leaves a wide margin to float64's 1e+-308).
 */
const NORM2_MIN = 1e-150;
const NORM2_MAX = 1e150;

/** Per bit width (index = bits): largest code, codes per unit of value, value per code; computed once. */
const MAX_CODE = new Float64Array(MAX_QUAT_BITS + 1);
const CODE_SCALE = new Float64Array(MAX_QUAT_BITS + 1);
const CODE_STEP = new Float64Array(MAX_QUAT_BITS + 1);
for (let bits = 1; bits <= MAX_QUAT_BITS; bits++) {
  MAX_CODE[bits] = 2 ** bits - 2;
  CODE_SCALE[bits] = MAX_CODE[bits] / (2 * RANGE);
  CODE_STEP[bits] = (2 * RANGE) / MAX_CODE[bits];
}

/** Where `unpackQuat` writes x, y, z, w (at offset .. offset + 3). */
export type QuatOut = Float32Array | Float64Array | number[];

/** Total packed bits for `bitsPerComponent` bits per component: 2 + 3 x bits. */
export function quatBits(bitsPerComponent: number): number {
  return 2 + 3 * bitsPerComponent;
}

/** Checks bits per component (an integer in 4..15); returns what is wrong, or null. */
export function validateQuatBits(bitsPerComponent: number): string | null {
  if (!Number.isInteger(bitsPerComponent) || bitsPerComponent < MIN_QUAT_BITS || bitsPerComponent > MAX_QUAT_BITS) {
    const range = `${MIN_QUAT_BITS}..${MAX_QUAT_BITS}`;
    return `quaternion bits per component must be an integer in ${range} (got ${bitsPerComponent})`;
  }
  return null;
}

/** Quantizes one small component to 0..maxQ. */
function encodeComponent(v: number, scale: number, maxQ: number): number {
  const q = Math.round((v + RANGE) * scale);
  return q < 0 ? 0 : q > maxQ ? maxQ : q;
}

/**
 * Packs a rotation (any non-zero length; zero, NaN or infinite input packs the identity) into a non-negative integer
 * below 2^quatBits(bits). `bits` is the bits per component, 4..15 (validated at registration, not here).
 */
export function packQuat(x: number, y: number, z: number, w: number, bits: number): number {
  // 1. Normalize. Outside a comfortable range (tiny, huge, zero, NaN, infinite), rescale by the largest magnitude
  //    first so nothing overflows; input that cannot be normalized becomes the identity.
  let n2 = x * x + y * y + z * z + w * w;
  if (!(n2 > NORM2_MIN && n2 < NORM2_MAX)) {
    const m = Math.max(Math.abs(x), Math.abs(y), Math.abs(z), Math.abs(w));
    if (m > 0 && m < Infinity) {
      x /= m;
      y /= m;
      z /= m;
      w /= m;
    } else {
      // Math.max gives NaN if any component is NaN: identity too.
      x = 0;
      y = 0;
      z = 0;
      w = 1;
    }
    n2 = x * x + y * y + z * z + w * w;
  }
  const inv = 1 / Math.sqrt(n2);
  x *= inv;
  y *= inv;
  z *= inv;
  w *= inv;
  const ax = x < 0 ? -x : x;
  const ay = y < 0 ? -y : y;
  const az = z < 0 ? -z : z;
  const aw = w < 0 ? -w : w;
  // 2. Pick the largest magnitude (ties go to the lowest index) and the other three in x, y, z, w order.
  let index = 0;
  let largest = ax;
  if (ay > largest) {
    index = 1;
    largest = ay;
  }
  if (az > largest) {
    index = 2;
    largest = az;
  }
  if (aw > largest) index = 3;
  let a: number;
  let b: number;
  let c: number;
  let sign: number;
  if (index === 0) {
    a = y;
    b = z;
    c = w;
    sign = x;
  } else if (index === 1) {
    a = x;
    b = z;
    c = w;
    sign = y;
  } else if (index === 2) {
    a = x;
    b = y;
    c = w;
    sign = z;
  } else {
    a = x;
    b = y;
    c = z;
    sign = w;
  }
  // 3. Canonical sign: make the largest component positive (q and -q are the same rotation).
  if (sign < 0) {
    a = -a;
    b = -b;
    c = -c;
  }
  // 4. Quantize the three small components.
  const maxQ = MAX_CODE[bits];
  const scale = CODE_SCALE[bits];
  const step = CODE_STEP[bits];
  const half = maxQ / 2;
  let qa = encodeComponent(a, scale, maxQ);
  let qb = encodeComponent(b, scale, maxQ);
  let qc = encodeComponent(c, scale, maxQ);
  // 5. Keep the rebuilt largest strictly the largest: nudge the biggest small component one step toward 0 until so.
  for (;;) {
    const da = qa * step - RANGE;
    const db = qb * step - RANGE;
    const dc = qc * step - RANGE;
    const a2 = da * da;
    const b2 = db * db;
    const c2 = dc * dc;
    const rest = 1 - a2 - b2 - c2;
    if (a2 < rest - LARGEST_MARGIN && b2 < rest - LARGEST_MARGIN && c2 < rest - LARGEST_MARGIN) break;
    if (a2 >= b2 && a2 >= c2) qa += qa > half ? -1 : 1;
    else if (b2 >= c2) qb += qb > half ? -1 : 1;
    else qc += qc > half ? -1 : 1;
  }
  // 6. Pack [index][a][b][c], most significant first; arithmetic, since up to 47 bits.
  const unit = maxQ + 2;
  return ((index * unit + qa) * unit + qb) * unit + qc;
}

/**
 * Unpacks into out[offset .. offset + 3] = x, y, z, w (unit length, largest component positive). Allocates nothing.
 * Any packed value decodes to a valid rotation; out-of-range input gives the identity.
 */
export function unpackQuat(packed: number, bits: number, out: QuatOut, offset = 0): void {
  const maxQ = MAX_CODE[bits];
  const unit = maxQ + 2;
  let index: number;
  let qa: number;
  let qb: number;
  let qc: number;
  // 1. Split the fields: bit operations while the total fits 32 bits (bits <= 10), arithmetic above.
  if (!(packed >= 0 && packed < unit * unit * unit * 4)) {
    index = 3;
    qa = qb = qc = maxQ / 2;
  } else if (bits <= 10) {
    const mask = unit - 1;
    qc = packed & mask;
    qb = (packed >>> bits) & mask;
    qa = (packed >>> (2 * bits)) & mask;
    index = packed >>> (3 * bits);
  } else {
    qc = packed % unit;
    let rest = (packed - qc) / unit;
    qb = rest % unit;
    rest = (rest - qb) / unit;
    qa = rest % unit;
    index = (rest - qa) / unit;
  }
  if (qa > maxQ) qa = maxQ;
  if (qb > maxQ) qb = maxQ;
  if (qc > maxQ) qc = maxQ;
  // 2. Dequantize the small three and rebuild the largest from the unit length.
  const step = CODE_STEP[bits];
  const a = qa * step - RANGE;
  const b = qb * step - RANGE;
  const c = qc * step - RANGE;
  const rest2 = 1 - a * a - b * b - c * c;
  const l = rest2 > 0 ? Math.sqrt(rest2) : 0;
  // 3. Renormalize (only matters when the small three overshoot, which a valid encoder never produces).
  const inv = 1 / Math.sqrt(a * a + b * b + c * c + l * l);
  const na = a * inv;
  const nb = b * inv;
  const nc = c * inv;
  const nl = l * inv;
  // 4. Put the largest back at its index.
  if (index === 0) {
    out[offset] = nl;
    out[offset + 1] = na;
    out[offset + 2] = nb;
    out[offset + 3] = nc;
  } else if (index === 1) {
    out[offset] = na;
    out[offset + 1] = nl;
    out[offset + 2] = nb;
    out[offset + 3] = nc;
  } else if (index === 2) {
    out[offset] = na;
    out[offset + 1] = nb;
    out[offset + 2] = nl;
    out[offset + 3] = nc;
  } else {
    out[offset] = na;
    out[offset + 1] = nb;
    out[offset + 2] = nc;
    out[offset + 3] = nl;
  }
}
