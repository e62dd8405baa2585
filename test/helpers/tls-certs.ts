// Certificates for TLS tests, made in the test (no openssl on a fresh machine): a CA, and leaf
// certificates it signs for localhost / 127.0.0.1 (servers) or a client name (mutual TLS), each
// with the serial asked for, so that a test can tell which certificate a connection got.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs the polyfill
import * as x509 from '@peculiar/x509';
import { connect, type PeerCertificate } from 'node:tls';

// Node's Web Crypto (global since Node 19).
const webcrypto = globalThis.crypto;
x509.cryptoProvider.set(webcrypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export interface TestCa extends Pem {
  /** A leaf certificate signed by this CA. */
  issue(options: { serial: string; server?: boolean; commonName?: string }): Promise<Pem>;
}

async function keyPem(keys: CryptoKeyPair): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') + '\n';
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** A self-signed CA. */
export async function createCa(name = 'Gatehouse Test CA'): Promise<TestCa> {
  const keys = await generateKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return {
    cert: ca.toString('pem') + '\n',
    key: await keyPem(keys),
    issue: async ({ serial, server = true, commonName = 'localhost' }) => {
      const leafKeys = await generateKeys();
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial,
        subject: `CN=${commonName}`,
        issuer: ca.subject,
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + 30 * DAY),
        signingKey: keys.privateKey,
        publicKey: leafKeys.publicKey,
        signingAlgorithm: ALGORITHM,
        extensions: [
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
          ...(server
            ? [
                new x509.SubjectAlternativeNameExtension([
                  { type: 'dns', value: 'localhost' },
                  { type: 'ip', value: '127.0.0.1' },
                ]),
              ]
            : []),
        ],
      });
      return { cert: leaf.toString('pem') + '\n', key: await keyPem(leafKeys) };
    },
  };
}

/** The certificate a new TLS connection to 127.0.0.1:port is served (verified against `ca`). */
export function servedCertificate(port: number, ca: string, client?: Pem): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...(client ?? {}) }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.once('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('TLS connection timed out')));
  });
}
