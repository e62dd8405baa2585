// TLS material of a listener: the certificate, key and client CA files named by `listen.tls` or
// `admin.tls`, read and checked together. A problem is a ConfigError that names the config file,
// the field and what is expected (unreadable file, no PEM certificate, a key that does not
// belong to the certificate), at start and when the files change (then it is logged and the
// running pair kept).
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError, type ConfigProblem } from '../config/errors.ts';
import type { TlsConfig } from './tls-schema.ts';

/** The files of a listener's TLS config, as absolute paths. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string | undefined;
  readonly minVersion: TlsConfig['minVersion'];
}

/** Where a listener's TLS config sits, for messages: the config file and the field (`listen.tls`, `admin.tls`). */
export interface TlsSource {
  readonly configFile: string;
  readonly field: 'listen.tls' | 'admin.tls';
}

/** A listener's TLS: the checked files, and where their config sits (messages, relative paths). */
export interface ListenerTls {
  readonly material: TlsMaterial;
  readonly source: TlsSource & { readonly configPath: string | undefined };
}

/** Reads and checks a listener's TLS files at start; undefined when the listener has no TLS. Throws a ConfigError. */
export async function loadListenerTls(tls: TlsConfig | undefined, field: TlsSource['field'], configPath: string | undefined): Promise<ListenerTls | undefined> {
  if (tls === undefined) return undefined;
  const source = { configFile: configPath ?? '(inline config)', field, configPath };
  return { material: await readTlsMaterial(resolveTlsFiles(tls, configPath), source), source };
}

/**
 * The TLS of both listeners (`listen.tls`, `admin.tls` when the admin listener is on), read and
 * checked; the problems of both in one ConfigError. Used at start and by `gatehouse check`.
 */
export async function loadListenersTls(
  config: { readonly listen: { readonly tls?: TlsConfig | undefined }; readonly admin: { readonly enabled: boolean; readonly tls?: TlsConfig | undefined } },
  configPath: string | undefined,
): Promise<{ mcp: ListenerTls | undefined; admin: ListenerTls | undefined }> {
  const [mcp, admin] = await Promise.allSettled([
    loadListenerTls(config.listen.tls, 'listen.tls', configPath),
    config.admin.enabled ? loadListenerTls(config.admin.tls, 'admin.tls', configPath) : undefined,
  ]);
  const failures = [mcp, admin].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const problems = failures.flatMap((f) => (f instanceof ConfigError ? f.problems : []));
  if (failures.length > 0) throw problems.length === failures.length ? new ConfigError(configPath ?? '(inline config)', problems) : failures[0];
  return { mcp: (mcp as PromiseFulfilledResult<ListenerTls | undefined>).value, admin: (admin as PromiseFulfilledResult<ListenerTls | undefined>).value };
}

/** Checked TLS material, ready for a secure context. */
export interface TlsMaterial {
  readonly files: TlsFiles;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  /** The leaf certificate (the first of `cert`). */
  readonly leaf: X509Certificate;
}

/**
 * Paths are relative to the config file, like every other path in it (the working directory
 * for a config given in code).
 */
export function resolveTlsFiles(tls: TlsConfig, configPath: string | undefined): TlsFiles {
  const baseDir = configPath ? path.dirname(path.resolve(configPath)) : process.cwd();
  return {
    cert: path.resolve(baseDir, tls.cert),
    key: path.resolve(baseDir, tls.key),
    ca: tls.ca === undefined ? undefined : path.resolve(baseDir, tls.ca),
    minVersion: tls.minVersion,
  };
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads and checks the files; throws a ConfigError naming each problem's field. */
export async function readTlsMaterial(files: TlsFiles, source: TlsSource): Promise<TlsMaterial> {
  const problems: ConfigProblem[] = [];
  const problem = (field: 'cert' | 'key' | 'ca', message: string) => problems.push({ field: `${source.field}.${field}`, message });
  const [cert, key, ca] = await Promise.all([readPem(files.cert), readPem(files.key), files.ca === undefined ? undefined : readPem(files.ca)]);

  let leaf: X509Certificate | undefined;
  if (typeof cert === 'string') problem('cert', cert);
  else leaf = certificates(cert, files.cert, (message) => problem('cert', message))?.[0];
  let privateKey: KeyObject | undefined;
  if (typeof key === 'string') problem('key', key);
  else privateKey = parseKey(key, files.key, (message) => problem('key', message));
  if (typeof ca === 'string') problem('ca', ca);
  else if (ca !== undefined) certificates(ca, files.ca!, (message) => problem('ca', message));

  if (leaf && privateKey && !leaf.checkPrivateKey(privateKey)) {
    problem('key', `the private key in ${files.key} does not belong to the certificate in ${files.cert} (${describeCertificate(leaf)}): expected the key the certificate was issued for`);
  }
  if (problems.length > 0) throw new ConfigError(source.configFile, problems);
  const material: TlsMaterial = { files, cert: cert as Buffer, key: key as Buffer, ca: ca as Buffer | undefined, leaf: leaf! };
  try {
    // What OpenSSL itself refuses (a key too weak for its security level, say).
    createSecureContext(secureContextOptions(material));
  } catch (error) {
    throw new ConfigError(source.configFile, [{ field: `${source.field}.cert`, message: `OpenSSL refuses this certificate and key (${files.cert}, ${files.key}): ${(error as Error).message}` }]);
  }
  return material;
}

/** The secure context options of checked material (for createServer and setSecureContext). */
export function secureContextOptions(material: TlsMaterial): SecureContextOptions {
  return { cert: material.cert, key: material.key, ca: material.ca, minVersion: material.files.minVersion };
}

/** Whether two materials would make the same secure context. */
export function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.files.minVersion === b.files.minVersion && a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca === undefined ? b.ca === undefined : b.ca !== undefined && a.ca.equals(b.ca));
}

/** Subject, serial and expiry, for log lines and messages. */
export function describeCertificate(cert: X509Certificate): string {
  return `subject ${cert.subject.replace(/\n/g, ', ')}, serial ${cert.serialNumber}, valid until ${cert.validTo}`;
}

/** A certificate's fields for a log line. */
export function certificateFields(cert: X509Certificate): Record<string, string> {
  return { subject: cert.subject.replace(/\n/g, ', '), serial: cert.serialNumber, sha256: cert.fingerprint256, validTo: cert.validTo };
}

/** Says when a certificate is not valid now (expired, or not yet valid); undefined when it is. */
export function validityProblem(cert: X509Certificate, now = Date.now()): string | undefined {
  if (Date.parse(cert.validTo) < now) return `the certificate expired on ${cert.validTo}: clients will refuse it`;
  if (Date.parse(cert.validFrom) > now) return `the certificate is not valid before ${cert.validFrom}: clients will refuse it until then`;
  return undefined;
}

/** The file's bytes, or a message saying why it cannot be read. */
async function readPem(file: string): Promise<Buffer | string> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    return `cannot read ${file}: ${reason} (expected a readable PEM file)`;
  }
}

/** The PEM certificates of a file, each parsed; reports and returns undefined when there are none or one is bad. */
function certificates(pem: Buffer, file: string, report: (message: string) => void): X509Certificate[] | undefined {
  const text = pem.toString('utf8');
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) {
    const hint = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? ' (it holds a private key: are cert and key swapped?)' : '';
    report(`${file} is not a PEM certificate${hint}: expected one or more "-----BEGIN CERTIFICATE-----" blocks`);
    return undefined;
  }
  const parsed: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      parsed.push(new X509Certificate(block));
    } catch (error) {
      report(`certificate ${index + 1} in ${file} cannot be parsed (${(error as Error).message}): expected a PEM X.509 certificate`);
      return undefined;
    }
  }
  return parsed;
}

function parseKey(pem: Buffer, file: string, report: (message: string) => void): KeyObject | undefined {
  const text = pem.toString('utf8');
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    report(`the private key in ${file} is encrypted: expected an unencrypted PEM key (decrypt it with \`openssl pkey -in ${path.basename(file)} -out key.pem\`, and keep the file mode 600)`);
    return undefined;
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    const hint = text.includes('-----BEGIN CERTIFICATE-----') ? ' (it holds a certificate: are cert and key swapped?)' : '';
    report(`${file} is not a PEM private key${hint}: expected a "-----BEGIN PRIVATE KEY-----" (or RSA / EC PRIVATE KEY) block`);
    return undefined;
  }
  try {
    return createPrivateKey(pem);
  } catch (error) {
    report(`the private key in ${file} cannot be parsed (${(error as Error).message}): expected an unencrypted PEM private key`);
    return undefined;
  }
}
