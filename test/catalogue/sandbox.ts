// Where a catalogue case runs: a fresh temporary directory (`<tmp>`) holding the node root (`<root>`), the
// profiles and saved plans the case writes, and harden's state dir inside the root; or a live node (health
// endpoints on loopback, recording snap/systemctl stand-ins) as `<root>` next to `<tmp>`. The box digests the
// whole of it before and after the run, and turns machine paths, pids and snapshot ids into placeholders.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FileOps } from '../../src/effects/file-ops.js';
import type { FileSystem } from '../../src/effects/file-system.js';
import type { Prompt } from '../../src/effects/prompt.js';
import { systemServices, type Services } from '../../src/effects/services.js';
import { runBinAsync, runInProcessWith, type Run } from '../helpers/cli.js';
import { makeLiveNode, readTree, type LiveNode, type TreeEntry } from '../helpers/live-node.js';
import { DEFAULT_REVISIONS, layOutNode, makeTempDir, type NodeRootOptions } from '../helpers/node-root.js';
import type { FixtureVersion } from '../helpers/paths.js';
import { readLog } from '../helpers/stand-ins.js';

/** What a case hands to harden through its interfaces instead of the real thing (the run is then in-process). */
export interface Injection {
  readonly fs?: FileSystem;
  readonly ops?: FileOps;
  readonly prompt?: Prompt;
  /** A terminal to ask on (only with an injected prompt). */
  readonly interactive?: boolean;
}

/** A Services that must never be reached: a catalogue case restarts nothing. */
const noServices: Services = {
  restart: async (service) => {
    throw new Error(`a catalogue case must not restart ${service}`);
  },
  state: async (service) => {
    throw new Error(`a catalogue case must not ask systemd about ${service}`);
  },
  answering: async () => {
    throw new Error('a catalogue case must not run snap or systemctl');
  },
};

export class Box {
  /** The node root; `<tmp>/root` unless the case uses a live node. */
  root: string;
  version: FixtureVersion = '1.28';
  live: LiveNode | null = null;
  private readonly names = new Map<string, string>();
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  private constructor(readonly tmp: string) {
    this.root = path.join(tmp, 'root');
  }

  static async make(): Promise<Box> {
    return new Box(await makeTempDir('harden-catalogue-'));
  }

  /** Lays out a node of this version at `<root>`, with a `var/lib` as every real root has. */
  async node(version: FixtureVersion = '1.28', options: Omit<NodeRootOptions, 'version'> = {}): Promise<void> {
    this.version = version;
    await fs.mkdir(this.root);
    await layOutNode(this.root, { version, ...options });
    await fs.mkdir(path.join(this.root, 'var/lib'), { mode: 0o755 });
  }

  /** A live node as `<root>`: its gates answer on loopback; snap and systemctl are the recording stand-ins. */
  async liveNode(version: FixtureVersion = '1.28'): Promise<LiveNode> {
    this.version = version;
    const node = await makeLiveNode({ version });
    this.live = node;
    this.root = node.root;
    this.cleanups.push(() => node.close());
    await fs.mkdir(path.join(this.root, 'var/lib'), { mode: 0o755 });
    return node;
  }

  get revision(): string {
    return this.live?.revision ?? DEFAULT_REVISIONS[this.version];
  }

  /** Host path of an args file (inside the revision dir). */
  args(name = ''): string {
    return path.join(this.root, 'var/snap/microk8s', this.revision, 'args', name);
  }

  get stateDir(): string {
    return path.join(this.root, 'var/lib/harden');
  }

  /** Writes a file under `<tmp>` and returns its path. */
  async file(name: string, content: string | Buffer): Promise<string> {
    const file = path.join(this.tmp, name);
    await fs.writeFile(file, content);
    return file;
  }

  /** Shows `value` (a pid, an id) as `placeholder` in outputs. */
  name(value: string, placeholder: string): void {
    this.names.set(value, placeholder);
  }

  onCleanup(step: () => Promise<void> | void): void {
    this.cleanups.push(step);
  }

  async cleanup(): Promise<void> {
    for (const step of this.cleanups.splice(0).reverse()) await step();
  }

  /** A placeholder argv (`<root>`, `<tmp>`) with the real paths. */
  argv(args: readonly string[]): string[] {
    return args.map((arg) => arg.replaceAll('<root>', this.root).replaceAll('<tmp>', this.tmp));
  }

  /** The directories a case may touch, each under its placeholder. */
  private watched(): [string, string][] {
    return this.root.startsWith(`${this.tmp}/`) ? [[this.tmp, '<tmp>']] : [[this.root, '<root>'], [this.tmp, '<tmp>']];
  }

  /** Every entry of every watched directory: type, mode, uid, gid, sha256 of the bytes or the link's target. */
  async digest(): Promise<Map<string, TreeEntry>> {
    const all = new Map<string, TreeEntry>();
    for (const [dir, placeholder] of this.watched()) {
      for (const [rel, entry] of await readTree(dir, [])) {
        const full = path.join(dir, rel);
        all.set(full.startsWith(`${this.root}/`) ? `<root>/${path.relative(this.root, full)}` : `${placeholder}/${rel}`, entry);
      }
    }
    return all;
  }

  /** Snapshot ids present now, oldest first. */
  async snapshotIds(): Promise<string[]> {
    return (await fs.readdir(path.join(this.stateDir, 'snapshots')).catch(() => [] as string[])).sort();
  }

  /** Machine paths, pids and snapshot ids as placeholders. */
  async placeholders(text: string): Promise<string> {
    let out = text;
    const ids = await this.snapshotIds();
    ids.forEach((id, i) => this.names.set(id, i === 0 ? '<id>' : `<id${i + 1}>`));
    for (const [value, placeholder] of this.names) out = out.replace(new RegExp(`(?<![\\w-])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'g'), placeholder);
    // The root first: it lies inside <tmp> unless the node is live.
    return out.replaceAll(this.root, '<root>').replaceAll(this.tmp, '<tmp>');
  }

  /**
   * Runs harden: the real bin in a child process, or the same main() in-process (the real filesystem and file
   * effects unless the case injects its own; snap and systemctl are the live node's stand-ins, or must not be
   * reached at all).
   */
  async run(args: readonly string[], injection: Injection | null, throughBin: boolean): Promise<Run> {
    const argv = this.argv(args);
    if (throughBin) return runBinAsync(argv, this.live?.env ?? { NO_COLOR: '1' });
    const given = injection ?? {};
    const services = this.live ? systemServices({ env: { ...process.env, PATH: this.live.env.PATH } }) : noServices;
    return runInProcessWith(argv, {
      fs: given.fs,
      change: { services, ...(given.ops ? { ops: given.ops } : {}), ...(given.prompt ? { prompt: given.prompt } : {}) },
      interactive: given.interactive ?? false,
      env: { NO_COLOR: '1' },
    });
  }

  /** `snap restart …` calls the stand-ins recorded (live nodes only). */
  async restarts(): Promise<string[]> {
    return this.live ? (await readLog(this.live.standIns, 'snap')).filter((line) => line.startsWith('snap restart ')) : [];
  }
}
