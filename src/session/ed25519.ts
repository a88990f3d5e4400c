/**
 * Ed25519 signing and verification for the handshake identity proofs and the command log. tweetnacl is the implementation (keys come from it, and
 * browsers use it); under Node the same operations run on Node's built-in crypto when it is there, because
 * tweetnacl's pure-JS verify costs ~3-8 ms while the native one costs ~0.1 ms, which decides how many edits per
 * second one server core can check. Ed25519 is deterministic (RFC 8032): both produce the same signature bytes,
 * and each verifies the other's (a test keeps this true).
 */
import nacl from 'tweetnacl';

/** The part of node:crypto used here. */
interface NodeCrypto {
  createPrivateKey(options: { key: object; format: 'jwk' }): object;
  createPublicKey(options: { key: object; format: 'jwk' }): object;
  sign(algorithm: null, data: Uint8Array, key: object): Uint8Array;
  verify(algorithm: null, data: Uint8Array, key: object, signature: Uint8Array): boolean;
}

/** Which implementation runs: 'native' (Node's crypto) when available, else 'tweetnacl'. */
export type Ed25519Backend = 'native' | 'tweetnacl';

/** Keys converted to Node key objects kept at most: one per client of a busy session, bounded. */
const MAX_CACHED_KEYS = 4096;

const nodeCrypto: NodeCrypto | null = (() => {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (p?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined) ?? null;
  } catch {
    return null;
  }
})();

let backend: Ed25519Backend = nodeCrypto ? 'native' : 'tweetnacl';
const privateKeys = new Map<string, object>();
const publicKeys = new Map<string, object>();

/** Chooses the implementation ('native' falls back to tweetnacl where Node's crypto is missing); returns the one in use. */
export function setEd25519Backend(choice: Ed25519Backend): Ed25519Backend {
  backend = choice === 'native' && nodeCrypto ? 'native' : 'tweetnacl';
  return backend;
}

/** The implementation in use. */
export function ed25519Backend(): Ed25519Backend {
  return backend;
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function cached(cache: Map<string, object>, id: string, make: () => object): object {
  let key = cache.get(id);
  if (key === undefined) {
    if (cache.size >= MAX_CACHED_KEYS) cache.clear();
    key = make();
    cache.set(id, key);
  }
  return key;
}

/** Signs `message` with a tweetnacl secret key (64 bytes: seed then public key). */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (backend === 'native' && nodeCrypto) {
    const c = nodeCrypto;
    const x = base64url(secretKey.subarray(32, 64));
    const d = base64url(secretKey.subarray(0, 32));
    const key = cached(privateKeys, d, () =>
      c.createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x }, format: 'jwk' }),
    );
    return new Uint8Array(c.sign(null, message, key));
  }
  return nacl.sign.detached(message, secretKey);
}

/** True when `signature` is `publicKey`'s signature of `message`; never throws. */
export function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    if (backend === 'native' && nodeCrypto) {
      const c = nodeCrypto;
      const x = base64url(publicKey);
      const key = cached(publicKeys, x, () =>
        c.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }),
      );
      return c.verify(null, message, key, signature);
    }
    return nacl.sign.detached.verify(message, signature, publicKey);
  } catch {
    return false;
  }
}
