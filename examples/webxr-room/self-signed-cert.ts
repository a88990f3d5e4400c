/**
 * A self-signed TLS certificate, made by the `selfsigned` package (offline, no openssl): WebXR needs a secure
 * context, and a headset reaches this machine by its LAN address, which no public CA will sign. The certificate is
 * an ECDSA P-256 X.509 v3 whose subjectAltName lists every name the page is opened by.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/** Validity of a new certificate: a year, under the 398 days browsers accept for a server certificate. */
export const CERT_VALIDITY_DAYS = 365;

/** A certificate is made again this long before it expires, so a session never hits the expiry. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

/** PEM key and certificate, ready for `https.createServer`. */
export interface CertificatePair {
  key: string;
  cert: string;
}

/** Makes a new key and a certificate for `hosts` (DNS names and IPv4 addresses), signed by that key. */
export async function createSelfSignedCertificate(
  hosts: readonly string[],
  now = new Date(),
): Promise<CertificatePair> {
  const pems = await generate([{ name: 'commonName', value: 'ecsync webxr-room (local, self-signed)' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000), // a clock a little behind still accepts it
    notAfterDate: new Date(now.getTime() + CERT_VALIDITY_DAYS * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      // Every name the page is opened by: browsers match only the subjectAltName.
      { name: 'subjectAltName', altNames: hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** True when `pair` is readable, matches its key, is not about to expire and covers every host. */
function isUsable(pair: CertificatePair, hosts: readonly string[], now: Date): boolean {
  try {
    const x509 = new X509Certificate(pair.cert);
    if (!x509.checkPrivateKey(createPrivateKey(pair.key))) return false;
    if (Date.parse(x509.validTo) - now.getTime() < RENEW_BEFORE_MS) return false;
    return hosts.every((h) => (isIP(h) ? x509.checkIP(h) : x509.checkHost(h)) !== undefined);
  } catch {
    return false;
  }
}

/**
 * The certificate kept in `dir` (key.pem, cert.pem), made anew when missing, expiring, or not covering `hosts`
 * (the machine joined another network). Reusing it means the headset asks to accept it only once.
 */
export async function loadOrCreateCertificate(
  dir: string,
  hosts: readonly string[],
): Promise<CertificatePair & { created: boolean; certPath: string }> {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const now = new Date();
  if (existsSync(keyPath) && existsSync(certPath)) {
    const pair = { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
    if (isUsable(pair, hosts, now)) return { ...pair, created: false, certPath };
  }
  const pair = await createSelfSignedCertificate(hosts, now);
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyPath, pair.key, { mode: 0o600 });
  writeFileSync(certPath, pair.cert);
  return { ...pair, created: true, certPath };
}
