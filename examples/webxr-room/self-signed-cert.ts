/**
 * A self-signed TLS certificate made with nothing but Node's crypto (no openssl, no package, works offline): WebXR
 * needs a secure context, and a headset reaches this machine by its LAN address, which no public CA will sign.
 * The certificate is an ECDSA P-256 X.509 v3 whose subjectAltName lists every name the page is opened by.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';

/** Validity of a new certificate: a year, under the 398 days browsers accept for a server certificate. */
export const CERT_VALIDITY_DAYS = 365;

/** A certificate is made again this long before it expires, so a session never hits the expiry. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

/** PEM key and certificate, ready for `https.createServer`. */
export interface CertificatePair {
  key: string;
  cert: string;
}

// ── DER (ITU-T X.690): tag, length, value ────────────────────────────────────────────────────────────────────
function der(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}
const sequence = (...parts: Uint8Array[]) => der(0x30, ...parts);
const set = (...parts: Uint8Array[]) => der(0x31, ...parts);
const explicit = (n: number, ...parts: Uint8Array[]) => der(0xa0 + n, ...parts);
const octets = (bytes: Uint8Array) => der(0x04, bytes);
const utf8 = (text: string) => der(0x0c, Buffer.from(text, 'utf8'));
const bitString = (bytes: Uint8Array) => der(0x03, Buffer.from([0]), bytes);

function integer(bytes: Uint8Array): Buffer {
  return der(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return der(0x06, Buffer.from(out));
}

function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'; // YYMMDDHHMMSSZ
  return der(0x17, Buffer.from(text, 'ascii'));
}

function extension(id: string, value: Uint8Array, critical = false): Buffer {
  return sequence(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), octets(value));
}

/** subjectAltName entries: dNSName is [2] IA5String, iPAddress is [7] four octets. */
function altNames(hosts: readonly string[]): Buffer {
  return sequence(
    ...hosts.map((h) => (isIPv4(h) ? der(0x87, Buffer.from(h.split('.').map(Number))) : der(0x82, Buffer.from(h)))),
  );
}

/** Makes a new key and a certificate for `hosts` (DNS names and IPv4 addresses), signed by that key. */
export function createSelfSignedCertificate(hosts: readonly string[], now = new Date()): CertificatePair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const name = sequence(set(sequence(oid('2.5.4.3'), utf8('ecsync webxr-room (local, self-signed)'))));
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const notAfter = new Date(now.getTime() + CERT_VALIDITY_DAYS * 24 * 3600 * 1000);
  // 1. to be signed: version 3, serial, algorithm, issuer = subject, validity, key, extensions
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaWithSha256,
    name,
    sequence(utcTime(new Date(now.getTime() - 60_000)), utcTime(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      sequence(
        extension('2.5.29.19', sequence(), true), // basicConstraints: not a CA
        extension('2.5.29.15', der(0x03, Buffer.from([7, 0x80])), true), // keyUsage: digitalSignature
        extension('2.5.29.37', sequence(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
        extension('2.5.29.17', altNames(hosts)),
      ),
    ),
  );
  // 2. the certificate: what was signed, how, and the ECDSA signature (DER Ecdsa-Sig-Value)
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const certificate = sequence(tbs, ecdsaWithSha256, bitString(signature));
  const base64 = certificate.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`,
  };
}

/** True when `pair` is readable, matches its key, is not about to expire and covers every host. */
function isUsable(pair: CertificatePair, hosts: readonly string[], now: Date): boolean {
  try {
    const x509 = new X509Certificate(pair.cert);
    if (!x509.checkPrivateKey(createPrivateKey(pair.key))) return false;
    if (Date.parse(x509.validTo) - now.getTime() < RENEW_BEFORE_MS) return false;
    return hosts.every((h) => (isIPv4(h) ? x509.checkIP(h) : x509.checkHost(h)) !== undefined);
  } catch {
    return false;
  }
}

/**
 * The certificate kept in `dir` (key.pem, cert.pem), made anew when missing, expiring, or not covering `hosts`
 * (the machine joined another network). Reusing it means the headset asks to accept it only once.
 */
export function loadOrCreateCertificate(
  dir: string,
  hosts: readonly string[],
): CertificatePair & { created: boolean; certPath: string } {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const now = new Date();
  if (existsSync(keyPath) && existsSync(certPath)) {
    const pair = { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
    if (isUsable(pair, hosts, now)) return { ...pair, created: false, certPath };
  }
  const pair = createSelfSignedCertificate(hosts, now);
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyPath, pair.key, { mode: 0o600 });
  writeFileSync(certPath, pair.cert);
  return { ...pair, created: true, certPath };
}
