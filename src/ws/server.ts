import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Services } from '../services.ts';
import { createRedis } from '../platform/redis.ts';
import { redisTarget } from '../config.ts';
import { AppError } from '../platform/errors.ts';
import { tokenRules, verifyToken } from '../http/auth/jwt.ts';
import type { Claims } from '../http/auth/claims.ts';
import { ensureParticipant, registerConnection, unregisterConnection } from '../domain/chat/connections.ts';
import { roomHistory, type FeedDeps } from '../domain/chat/roomFeed.ts';
import { RoomBridge } from './bridge.ts';
import { createFanout } from './fanout.ts';
import { HandshakeError, bearerProtocol, readHandshake, refuseUpgrade, type HandshakeRequest } from './handshake.ts';
import { Member, type DropReason, type MemberHooks } from './member.ts';
import { CLOSE, PONG_FRAME, REFETCH_FRAME, isPing, outgoing, welcomeFrame } from './protocol.ts';
import { replayAfter } from './replay.ts';
import { Rooms } from './rooms.ts';
import { WriteBatch } from './writeBatch.ts';

const CHAT_ROLES: ReadonlySet<string> = new Set(['client', 'model']);

export interface WsStats {
  connections: number;
  rooms: number;
  subscriptions: number;
  /** Bytes waiting in userland buffers over all sockets, and on the fullest one: what a frozen client can cost. */
  bufferedBytes: number;
  maxSocketBufferedBytes: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The WebSocket fan-out (API.md, "ws"): authenticates upgrades on GET /ws before completing them,
 * keeps sockets by room, subscribes this process's Redis connection to exactly those rooms, and
 * writes each event to the sockets allowed to see it.
 */
export class WsServer {
  private readonly rooms = new Rooms();
  private readonly batch = new WriteBatch();
  private readonly bridge: RoomBridge;
  private readonly wss: WebSocketServer;
  /** Sockets whose 'close' has not fired yet: close() waits for them. */
  private readonly open = new Set<WebSocket>();
  // One hooks object for every member: per-socket closures are memory ×10,000 (bench:ws-scale).
  private readonly memberHooks: MemberHooks;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly registrations = new Map<Member, Promise<void>>();
  private readonly unregistering = new Set<Promise<void>>();
  private readonly feed: FeedDeps;

  constructor(private readonly services: Services) {
    const { config, log, metrics } = services;
    this.memberHooks = {
      sent: (type) => metrics.wsFrames.inc({ type }),
      dropped: (reason: DropReason) => metrics.wsDrops.inc({ reason }),
    };
    this.feed = { redis: services.redis, db: services.db, prefix: config.queuePrefix, historySize: config.chat.historySize, historyWindowMs: config.chat.historyWindowMs };
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: config.ws.maxFrameBytes,
      // Pongs go through Member.pong: counted against the ping limit and the buffer cap.
      autoPong: false,
      // Echo the bearer subprotocol the token came in; a browser fails the handshake otherwise.
      handleProtocols: (protocols) => bearerProtocol([...protocols].join(',')) ?? false,
    });
    this.bridge = new RoomBridge(createRedis(redisTarget(config), 'worker', { connectionName: 'conveyor-ws-subscriber', shardedSubscribers: true }), {
      prefix: config.queuePrefix,
      wanted: (room) => this.rooms.has(room),
      onEvent: createFanout(this.rooms, this.batch, metrics, log),
      onResubscribed: () => {
        for (const member of this.rooms.all()) member.send(REFETCH_FRAME, 'refetch');
      },
      log,
    });
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(req, socket, head).catch((err: unknown) => {
        this.services.log.error({ err }, 'ws upgrade failed');
        refuseUpgrade(socket, 500, 'internal', 'internal error');
      });
    });
    const everyMs = this.services.config.ws.heartbeatMs;
    if (everyMs > 0) {
      this.heartbeat = setInterval(() => this.beat(), everyMs);
      this.heartbeat.unref();
    }
  }

  stats(): WsStats {
    let bufferedBytes = 0;
    let maxSocketBufferedBytes = 0;
    for (const member of this.rooms.all()) {
      bufferedBytes += member.bufferedBytes;
      maxSocketBufferedBytes = Math.max(maxSocketBufferedBytes, member.bufferedBytes);
    }
    return { connections: this.rooms.size, rooms: this.rooms.roomCount, subscriptions: this.bridge.subscriptions, bufferedBytes, maxSocketBufferedBytes };
  }

  /** Closes every socket with 1001 (going away), waits for them within the close grace, then unsubscribes. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const member of [...this.rooms.all()]) member.close(CLOSE.goingAway, 'server shutting down');
    await Promise.all([...this.open].map((ws) => new Promise((resolve) => ws.on('close', resolve))));
    this.wss.close();
    await Promise.all(this.unregistering);
    await this.bridge.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    let request: HandshakeRequest;
    let claims: Claims;
    try {
      if (this.closing) throw new HandshakeError(503, 'unavailable', 'server is shutting down');
      request = readHandshake(req, this.services.config.ws.origins);
      claims = await this.authenticate(request.token);
    } catch (err) {
      return this.refuse(socket, err);
    }

    const { config } = this.services;
    const member = new Member(claims.sub, claims.role, request.room, config.ws, this.batch, this.memberHooks);
    // In the room before subscribing: events published from the moment the subscription holds are buffered for it.
    this.rooms.add(member);
    // `on`, not `once`, for events that fire once anyway: `once` adds a wrapper per socket.
    socket.on('close', () => this.leave(member));
    try {
      await withTimeout(
        Promise.all([this.bridge.sync(request.room), this.register(member, claims)]),
        config.ws.handshakeTimeoutMs,
        'ws handshake',
      );
    } catch (err) {
      this.services.log.warn({ err: (err as Error).message, room: request.room }, 'ws handshake could not subscribe or register');
      this.leave(member);
      return this.refuse(socket, new HandshakeError(503, 'unavailable', 'chat is unavailable, retry later'));
    }
    if (socket.destroyed) return this.leave(member);
    if (this.closing) {
      this.leave(member);
      return this.refuse(socket, new HandshakeError(503, 'unavailable', 'server is shutting down'));
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.opened(member, ws, socket, request.since));
  }

  private async authenticate(token: string): Promise<Claims> {
    let claims: Claims;
    try {
      claims = await verifyToken(tokenRules(this.services.config), token);
    } catch (err) {
      if (err instanceof AppError) throw new HandshakeError(401, err.code, err.message);
      throw err;
    }
    if (!CHAT_ROLES.has(claims.role)) throw new HandshakeError(403, 'forbidden_role', `role "${claims.role}" takes no part in chat`);
    return claims;
  }

  private refuse(socket: Duplex, err: unknown): void {
    if (!(err instanceof HandshakeError)) throw err;
    this.services.metrics.wsDrops.inc({ reason: `refused_${err.status}` });
    refuseUpgrade(socket, err.status, err.code, err.message);
  }

  private opened(member: Member, ws: WebSocket, socket: Duplex, since: string | undefined): void {
    const { metrics, log } = this.services;
    member.attach(ws, socket);
    metrics.wsConnections.inc();
    this.open.add(ws);
    ws.on('message', (data, isBinary) => {
      member.alive = true;
      if (isPing(data, isBinary) && member.pinged()) member.send(PONG_FRAME, 'pong');
    });
    ws.on('ping', (data: Buffer) => {
      member.alive = true;
      if (member.pinged()) member.pong(data);
    });
    ws.on('pong', () => {
      member.alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws is already closing the socket: 1009 for a frame over maxPayload, 1002 for a protocol error.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') member.drop('frame_too_large', CLOSE.tooLarge, 'frame too large');
      else member.drop('protocol_error', CLOSE.protocolError, 'protocol error');
    });
    log.debug({ connection: member.connectionId, room: member.room, sub: member.sub }, 'ws connected');
    ws.on('close', (code) => {
      log.debug({ connection: member.connectionId, room: member.room, code }, 'ws closed');
      metrics.wsConnections.dec();
      this.open.delete(ws);
      this.leave(member);
    });
    member.send(welcomeFrame(member.connectionId), 'welcome');
    if (since === undefined) return member.goLive(null);
    roomHistory(this.feed, member.room).then(
      (history) => {
        const room = this.rooms.get(member.room);
        const replay = replayAfter(history, since, member.sub, (id) => room?.fannedOutBefore(id, since) ?? false);
        if (!replay) {
          member.send(REFETCH_FRAME, 'refetch');
          return member.goLive(null);
        }
        for (const event of replay.missed) member.sendEvent(outgoing(event));
        member.goLive(replay.known);
      },
      (err: unknown) => {
        log.warn({ err: (err as Error).message }, 'ws replay failed; client told to refetch');
        member.send(REFETCH_FRAME, 'refetch');
        member.goLive(null);
      },
    );
  }

  /** Records the connection (the seed's connections table); leave() deletes it again. */
  private register(member: Member, claims: Claims): Promise<void> {
    const { db } = this.services;
    const registered = ensureParticipant(db, { sub: claims.sub, role: claims.role, name: claims.name }).then(() =>
      registerConnection(db, { connectionId: member.connectionId, entityUuid: claims.sub, type: claims.role as 'client' | 'model' }),
    );
    this.registrations.set(member, registered);
    return registered;
  }

  /** Deletes a departed member's connection row, after its registration settled (it may still be under way). */
  private unregister(member: Member): void {
    const registered = this.registrations.get(member);
    if (!registered) return;
    this.registrations.delete(member);
    const done = registered
      .catch(() => undefined)
      .then(() => unregisterConnection(this.services.db, member.connectionId))
      .catch((err: unknown) => this.services.log.warn({ err: (err as Error).message }, 'ws connection row not deleted; the prune job will'))
      .finally(() => this.unregistering.delete(done));
    this.unregistering.add(done);
  }

  private leave(member: Member): void {
    if (!this.rooms.remove(member)) return;
    this.unregister(member);
    if (!this.rooms.has(member.room)) {
      this.bridge.sync(member.room).catch((err: unknown) => this.services.log.warn({ err: (err as Error).message, room: member.room }, 'ws unsubscribe failed'));
    }
  }

  /** Pings every socket; one that has not answered since the last beat is dead and cut. */
  private beat(): void {
    for (const member of this.rooms.all()) {
      // Still in its handshake: the handshake timeout, not the heartbeat, bounds it.
      if (!member.isAttached) continue;
      if (!member.alive) {
        member.terminate('dead_peer');
        continue;
      }
      member.alive = false;
      member.ping();
    }
  }
}
