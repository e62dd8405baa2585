// Keeps a TLS listener's certificate current: the certificate, key and CA files are watched
// (through their folders: certbot, cert-manager and editors replace files by renaming or by
// swapping a symlink) and stat'ed every 30 s (watching is not reliable on every file system).
// A change is read, checked as at start, and put in place with setSecureContext: connections
// open keep their session, new ones get the new certificate. A pair that does not check is
// logged and the running one kept. A config reload may also name other files.
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Server as TlsServer } from 'node:tls';
import type { Logger } from '../log.ts';
import type { TlsConfig } from './tls-schema.ts';
import { certificateFields, readTlsMaterial, resolveTlsFiles, sameMaterial, secureContextOptions, validityProblem, type TlsFiles, type TlsMaterial, type TlsSource } from './tls.ts';

export interface TlsReloadOptions {
  /** Stat the files this often (ms). */
  readonly pollMs: number;
  /** Wait this long after a watch event before reading (a renewal writes several files). */
  readonly debounceMs: number;
  /** Watch the files' folders (off: the periodic stat alone). */
  readonly watch: boolean;
}

const DEFAULTS: TlsReloadOptions = { pollMs: 30_000, debounceMs: 200, watch: true };

export class TlsReloader {
  private material: TlsMaterial;
  private files: TlsFiles;
  private watchers: FSWatcher[] = [];
  private readonly poller: NodeJS.Timeout;
  private debounce: NodeJS.Timeout | undefined;
  private signature = '';
  /** One check at a time, in order. */
  private queue: Promise<boolean> = Promise.resolve(true);
  private lastFailure: string | undefined;
  private closed = false;
  private readonly options: TlsReloadOptions;

  constructor(
    private readonly server: TlsServer,
    initial: TlsMaterial,
    private readonly source: TlsSource & { readonly configPath: string | undefined },
    private readonly log: Logger,
    options: Partial<TlsReloadOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.material = initial;
    this.files = initial.files;
    this.warnIfInvalid(initial);
    this.watchFiles();
    void this.fileSignature().then((signature) => (this.signature = signature));
    this.poller = setInterval(() => void this.poll(), this.options.pollMs).unref();
  }

  /** The certificate served to new connections. */
  get certificate(): TlsMaterial['leaf'] {
    return this.material.leaf;
  }

  /**
   * A config reload: the TLS settings may name other files (or none: turning TLS off, like turning
   * it on, takes a restart). The files are read again either way.
   */
  reconfigure(tls: TlsConfig | undefined): Promise<boolean> {
    if (tls === undefined) {
      this.log.warn({ field: this.source.field }, `${this.source.field} was removed: turning TLS off takes effect on restart; the listener keeps serving HTTPS`);
      return this.check();
    }
    const next = resolveTlsFiles(tls, this.source.configPath);
    if ((next.ca === undefined) !== (this.files.ca === undefined)) {
      this.log.warn({ field: `${this.source.field}.ca` }, `turning mutual TLS ${next.ca ? 'on' : 'off'} (${this.source.field}.ca) takes effect on restart; the client CA in use is kept`);
    }
    const files: TlsFiles = { ...next, ca: this.files.ca === undefined ? undefined : (next.ca ?? this.files.ca) };
    if (JSON.stringify(files) !== JSON.stringify(this.files)) {
      this.files = files;
      this.watchFiles();
    }
    return this.check();
  }

  /** Reads the files and puts a changed, valid pair in place. Resolves whether the files in force are the ones on disk. */
  check(): Promise<boolean> {
    this.queue = this.queue.then(() => this.checkNow());
    return this.queue;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poller);
    clearTimeout(this.debounce);
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
  }

  private async checkNow(): Promise<boolean> {
    if (this.closed) return false;
    const files = this.files;
    this.signature = await this.fileSignature();
    let next: TlsMaterial;
    try {
      next = await readTlsMaterial(files, this.source);
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.lastFailure) {
        this.log.error({ listener: this.source.field, problems: message }, 'new TLS certificate or key refused; the listener keeps the current pair');
      }
      this.lastFailure = message;
      return false;
    }
    this.lastFailure = undefined;
    if (sameMaterial(next, this.material)) return true;
    this.server.setSecureContext(secureContextOptions(next));
    this.material = next;
    this.log.info({ listener: this.source.field, ...certificateFields(next.leaf), cert: files.cert }, 'TLS certificate reloaded: new connections get the new one');
    this.warnIfInvalid(next);
    return true;
  }

  private warnIfInvalid(material: TlsMaterial): void {
    const problem = validityProblem(material.leaf);
    if (problem) this.log.warn({ listener: this.source.field, ...certificateFields(material.leaf), cert: material.files.cert }, problem);
  }

  /** The periodic fallback: reads the files only when their stat changed. */
  private async poll(): Promise<void> {
    if ((await this.fileSignature()) !== this.signature) await this.check();
  }

  /** Identity, size and times of each file (through symlinks), or why it cannot be stat'ed. */
  private async fileSignature(): Promise<string> {
    const files = [this.files.cert, this.files.key, this.files.ca].filter((f): f is string => f !== undefined);
    const parts = await Promise.all(
      files.map((file) =>
        stat(file, { bigint: true }).then(
          (s) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`,
          (error: NodeJS.ErrnoException) => error.code ?? 'error',
        ),
      ),
    );
    return parts.join('|');
  }

  private watchFiles(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    if (!this.options.watch) return;
    const folders = new Set([this.files.cert, this.files.key, this.files.ca].filter((f): f is string => f !== undefined).map((f) => path.dirname(f)));
    for (const folder of folders) {
      try {
        // Any change in the folder: a symlink swap (`..data` of a Kubernetes secret) renames no watched name.
        const watcher = watch(folder, { persistent: false }, () => {
          clearTimeout(this.debounce);
          this.debounce = setTimeout(() => void this.check(), this.options.debounceMs);
        });
        watcher.on('error', (error) => this.log.warn({ folder, err: error.message }, 'stopped watching the TLS files; they are still checked every 30 s'));
        this.watchers.push(watcher);
      } catch (error) {
        this.log.warn({ folder, err: (error as Error).message }, 'cannot watch the TLS files; they are checked every 30 s (or send SIGHUP)');
      }
    }
  }
}
