/**
 * A Redis Cluster of our own for tests and benchmarks: `redis-server --cluster-enabled yes` on free
 * loopback ports with temp dirs, slots split evenly over the masters by hand (ADDSLOTSRANGE, MEET:
 * no waiting on redis-cli's prompts), replicas attached on demand; stop() kills and removes all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { keySlot } from '../../src/platform/keySlot.ts';
import { freePort } from './redisServer.ts';

const SLOTS = 16384;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** One redis-server of the cluster. */
export class ClusterNode {
  readonly dir = mkdtempSync(join(tmpdir(), 'conveyor-cluster-'));
  child: ChildProcess | undefined;
  id = '';
  private admin: Redis | undefined;
  private log = '';

  constructor(
    readonly port: number,
    private readonly busPort: number,
    private readonly nodeTimeoutMs: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    // No RDB, no AOF: a killed node's data is gone (its replica holds the copy); noeviction, as production.
    const args = ['--port', String(this.port), '--cluster-port', String(this.busPort), '--bind', '127.0.0.1', '--protected-mode', 'no', '--dir', this.dir,
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(this.nodeTimeoutMs),
      '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning',
      // A replica's first sync starts at once (the default waits 5 s for more replicas to join it).
      '--repl-diskless-sync-delay', '0'];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-10_000)));
    child.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-10_000)));
    this.child = child;
    await until(`redis-server on ${this.port}`, async () => (await this.call('PING')) === 'PONG').catch((err: Error) => {
      throw new Error(`${err.message}\n${this.log}`);
    });
    this.id = String(await this.call('CLUSTER', 'MYID'));
  }

  /** One command on this node alone (no redirection). */
  async call(command: string, ...args: (string | number)[]): Promise<unknown> {
    if (!this.admin || this.admin.status === 'end') {
      this.admin = new Redis(this.port, '127.0.0.1', { protocol: 2, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
      this.admin.on('error', () => {});
      await this.admin.connect();
    }
    return this.admin.call(command, ...args);
  }

  async info(section: string): Promise<string> {
    return String(await this.call('INFO', section));
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    this.admin?.disconnect();
    await this.kill9();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ClusterOptions {
  masters?: number;
  /** Replicas to attach, each to the master of this index. */
  replicasOf?: number[];
  /** cluster-node-timeout: how long a silent master takes to be declared failed. */
  nodeTimeoutMs?: number;
}

export class RedisCluster {
  private constructor(
    readonly nodes: ClusterNode[],
    private readonly nodeTimeoutMs: number,
  ) {}

  static async start(opts: ClusterOptions = {}): Promise<RedisCluster> {
    const masters = opts.masters ?? 3;
    const nodeTimeoutMs = opts.nodeTimeoutMs ?? 2_000;
    const cluster = new RedisCluster([], nodeTimeoutMs);
    try {
      for (let i = 0; i < masters; i++) await cluster.addNode();
      const ms = cluster.nodes;
      await Promise.all(ms.map((n, i) => n.call('CLUSTER', 'ADDSLOTSRANGE', Math.floor((SLOTS * i) / masters), Math.floor((SLOTS * (i + 1)) / masters) - 1)));
      for (const n of ms.slice(1)) await ms[0]!.call('CLUSTER', 'MEET', '127.0.0.1', n.port, cluster.busPortOf(n));
      await cluster.waitHealthy();
      for (const of of opts.replicasOf ?? []) await cluster.addReplica(ms[of]!);
      await cluster.waitAgreed();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private readonly busPorts = new Map<ClusterNode, number>();
  private busPortOf(node: ClusterNode): number {
    return this.busPorts.get(node)!;
  }

  private async addNode(): Promise<ClusterNode> {
    const busPort = await freePort();
    const node = new ClusterNode(await freePort(), busPort, this.nodeTimeoutMs);
    this.busPorts.set(node, busPort);
    this.nodes.push(node);
    await node.start();
    return node;
  }

  /** A new node replicating `master`; resolves once its copy is in sync. */
  async addReplica(master: ClusterNode): Promise<ClusterNode> {
    const replica = await this.addNode();
    await replica.call('CLUSTER', 'MEET', '127.0.0.1', master.port, this.busPortOf(master));
    await until('the replica to know its master', async () => String(await replica.call('CLUSTER', 'NODES')).includes(master.id));
    await replica.call('CLUSTER', 'REPLICATE', master.id);
    await until('the replica to sync', async () => /master_link_status:up/.test(await replica.info('replication')));
    await this.waitHealthy();
    return replica;
  }

  /** Every live node says cluster_state:ok and knows every live node. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const live = () => this.nodes.filter((n) => n.alive);
    await until(
      'cluster_state:ok on every node',
      async () => {
        const infos = await Promise.all(live().map((n) => n.call('CLUSTER', 'INFO')));
        return infos.every((i) => /cluster_state:ok/.test(String(i)) && Number(/cluster_known_nodes:(\d+)/.exec(String(i))?.[1]) >= live().length);
      },
      timeoutMs,
    );
  }

  /** Every live node's slot map names live masters only (a failover has spread by gossip). */
  async waitAgreed(timeoutMs = 20_000): Promise<void> {
    const live = this.nodes.filter((n) => n.alive);
    const ports = new Set(live.map((n) => n.port));
    await until(
      'every node to agree on the masters',
      async () => {
        const views = await Promise.all(live.map(async (n) => (await n.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][]));
        return views.every((shards) => shards.length > 0 && shards.every(([, , [, port]]) => ports.has(Number(port))));
      },
      timeoutMs,
    );
    await this.waitHealthy(timeoutMs);
  }

  /** The seed list for REDIS_URL (REDIS_CLUSTER=true): every node, as an operator would list them. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  /** The live nodes that serve slots now, as the cluster itself says. */
  async masters(): Promise<ClusterNode[]> {
    const ports = new Set((await this.shards()).map(([, , [, port]]) => Number(port)));
    return this.nodes.filter((n) => n.alive && ports.has(n.port));
  }

  private async shards(): Promise<[number, number, [string, number, string]][]> {
    const any = this.nodes.find((n) => n.alive)!;
    return (await any.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
  }

  /** The live master serving the slot of `key`. */
  async masterOf(key: string): Promise<ClusterNode> {
    const slot = keySlot(key);
    const owner = (await this.shards()).find(([from, to]) => slot >= from && slot <= to);
    const node = owner && this.nodes.find((n) => n.port === Number(owner[2][1]));
    if (!node) throw new Error(`no master serves slot ${slot}`);
    return node;
  }

  /** The replica of `master`, if one was attached. */
  async replicaOf(master: ClusterNode): Promise<ClusterNode | undefined> {
    for (const n of this.nodes.filter((x) => x.alive && x !== master)) {
      if (new RegExp(`master_port:${master.port}\\b`).test(await n.info('replication'))) return n;
    }
    return undefined;
  }

  /** Kills `master` (SIGKILL) and has its replica take its slots over at once (CLUSTER FAILOVER FORCE). */
  async killMaster(master: ClusterNode): Promise<ClusterNode> {
    const replica = await this.replicaOf(master);
    if (!replica) throw new Error(`master ${master.port} has no replica`);
    await master.kill9();
    // Without FORCE the replica waits cluster-node-timeout to see its master fail; the outcome is the same.
    await replica.call('CLUSTER', 'FAILOVER', 'FORCE');
    await until('the replica to be a master', async () => /role:master/.test(await replica.info('replication')));
    await this.waitAgreed();
    return replica;
  }

  /** FLUSHALL on every live master: the whole cluster wiped, as a single Redis would be. */
  async flushAll(): Promise<void> {
    for (const n of await this.masters()) await n.call('FLUSHALL');
  }

  /** An ioredis Cluster for test assertions (retries on, sharded subscribers on). */
  client(): Cluster {
    return new Cluster(
      this.nodes.filter((n) => n.alive).map((n) => ({ host: '127.0.0.1', port: n.port })),
      { redisOptions: { protocol: 2 }, shardedSubscribers: true },
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }
}
