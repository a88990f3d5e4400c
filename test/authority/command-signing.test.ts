import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import {
  commandBytes,
  signCommand,
  verifyCommand,
  type CommandEntryData,
} from '../../src/authority/command-signing.ts';
import { ed25519Backend, ed25519Sign, ed25519Verify, setEd25519Backend } from '../../src/session/ed25519.ts';
import { encodeBody } from '../../src/codec/msgpack-body.ts';
import { createRandom } from '../../src/random.ts';

const seed = new Uint8Array(32).map((_, i) => i + 1);
const keys = nacl.sign.keyPair.fromSeed(seed);
const SESSION = 's0123456789abcdef';

function entry(): Omit<CommandEntryData, 'sig'> {
  return {
    author: 3,
    seq: 7,
    counter: 300,
    base: 12,
    type: 'transform',
    target: 'obj:42',
    payload: encodeBody([0.5, -1, 2]),
  };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('canonical command bytes', () => {
  it('have a fixed layout: label, session, author, seq, counter, base, type, target, payload', () => {
    const bytes = commandBytes('s1', {
      author: 1,
      seq: 2,
      counter: 300,
      base: 0,
      type: 't',
      target: 'k',
      payload: new Uint8Array([0xc0]),
    });
    const label = hex(new TextEncoder().encode('ecsync-command-v1\n'));
    // "s1" | 1 | 2 | 300 = ac 02 | 0 | "t" | "k" | [c0]
    expect(hex(bytes)).toBe(`${label}027331` + '01' + '02' + 'ac02' + '00' + '0174' + '016b' + '01c0');
  });

  it('change with every field and with the session', () => {
    const base = hex(commandBytes(SESSION, entry()));
    const variants: Array<Partial<Omit<CommandEntryData, 'sig'>>> = [
      { author: 4 },
      { seq: 8 },
      { counter: 301 },
      { base: 13 },
      { type: 'transforn' },
      { target: 'obj:43' },
      { payload: encodeBody([0.5, -1, 2.0001]) },
      // Moving a byte from type to target must not give the same bytes (lengths are part of the layout).
      { type: 'transformo', target: 'bj:42' },
    ];
    for (const v of variants) expect(hex(commandBytes(SESSION, { ...entry(), ...v }))).not.toBe(base);
    expect(hex(commandBytes('s-other', entry()))).not.toBe(base);
    expect(hex(commandBytes(SESSION, entry()))).toBe(base);
  });

  it('encode large numbers as LEB128 varuints without losing precision', () => {
    const big = { ...entry(), seq: 2 ** 53 - 1 };
    const bytes = commandBytes(SESSION, big);
    expect(bytes.length).toBe(commandBytes(SESSION, entry()).length + 7); // 8 bytes instead of 1
    expect(hex(bytes)).not.toBe(hex(commandBytes(SESSION, { ...big, seq: 2 ** 53 - 2 })));
  });
});

describe('command signatures', () => {
  afterEach(() => setEd25519Backend('native'));

  it('verify for the author and fail for any change, another key or another session', () => {
    const e = { ...entry(), sig: signCommand(SESSION, entry(), keys.secretKey) };
    expect(verifyCommand(SESSION, e, keys.publicKey)).toBe(true);
    expect(verifyCommand('s-other', e, keys.publicKey)).toBe(false);
    expect(verifyCommand(SESSION, e, nacl.sign.keyPair().publicKey)).toBe(false);
    expect(verifyCommand(SESSION, { ...e, seq: 8 }, keys.publicKey)).toBe(false);
    expect(verifyCommand(SESSION, { ...e, author: 2 }, keys.publicKey)).toBe(false);
    expect(verifyCommand(SESSION, { ...e, payload: encodeBody([0.5, -1, 3]) }, keys.publicKey)).toBe(false);
    const flipped = e.sig.slice();
    flipped[63] ^= 0x80;
    expect(verifyCommand(SESSION, { ...e, sig: flipped }, keys.publicKey)).toBe(false);
  });

  it('never throw on garbage signatures or keys', () => {
    const e = { ...entry(), sig: new Uint8Array(64) };
    const rnd = createRandom(9);
    for (const backend of ['native', 'tweetnacl'] as const) {
      setEd25519Backend(backend);
      expect(verifyCommand(SESSION, e, new Uint8Array(32))).toBe(false);
      expect(verifyCommand(SESSION, e, new Uint8Array(31))).toBe(false);
      expect(verifyCommand(SESSION, { ...e, sig: new Uint8Array(63) }, keys.publicKey)).toBe(false);
      for (let i = 0; i < 50; i++) {
        const key = new Uint8Array(32).map(() => rnd.int(256));
        const sig = new Uint8Array(64).map(() => rnd.int(256));
        expect(verifyCommand(SESSION, { ...e, sig }, key)).toBe(false);
      }
    }
  });

  it('tweetnacl and the native backend produce the same signatures and verify each other', () => {
    const rnd = createRandom(10);
    for (let i = 0; i < 20; i++) {
      const kp = nacl.sign.keyPair();
      const msg = new Uint8Array(1 + rnd.int(300)).map(() => rnd.int(256));
      setEd25519Backend('tweetnacl');
      expect(ed25519Backend()).toBe('tweetnacl');
      const a = ed25519Sign(msg, kp.secretKey);
      const native = setEd25519Backend('native');
      const b = ed25519Sign(msg, kp.secretKey);
      expect(hex(b)).toBe(hex(a));
      expect(ed25519Verify(msg, a, kp.publicKey)).toBe(true);
      if (native === 'native') {
        setEd25519Backend('tweetnacl');
        expect(ed25519Verify(msg, b, kp.publicKey)).toBe(true);
      }
      expect(hex(a)).toBe(hex(nacl.sign.detached(msg, kp.secretKey)));
    }
  });
});
