/** Faults of MariaDB: kill -9 and restart mid-burst, SIGSTOP 20 s. */
import { sleep } from '../infra.ts';
import type { Scenario } from '../context.ts';

export const mysqlKill: Scenario = {
  name: 'mysql-kill',
  n: 7,
  quick: true,
  async run(ctx) {
    const load = ctx.traffic.run(10_000, 15);
    await sleep(3000);
    await ctx.mariadb.kill9();
    await ctx.mariadb.start();
    await load;
    return { fault: 'kill -9 mariadbd mid-burst, restarted at once (crash recovery)' };
  },
};

export const mysqlStop: Scenario = {
  name: 'mysql-freeze',
  n: 8,
  quick: false,
  async run(ctx) {
    const load = ctx.traffic.run(26_000, 10);
    await sleep(3000);
    ctx.mariadb.signal('SIGSTOP');
    const t = Date.now();
    const res = await ctx.traffic.call('POST', '/chat/message/add', ctx.traffic.clients[0], { room: ctx.traffic.rooms[0]!.uuid, message: 'during freeze', is_public: true }, {}, 0, 30_000);
    const took = Date.now() - t;
    await sleep(Math.max(0, 20_000 - (Date.now() - t)));
    ctx.mariadb.signal('SIGCONT');
    await load;
    if (res.status === 201) ctx.traffic.attempts.push({ kind: 'message', key: 'freeze-probe', status: 201, body: res.body, tries: 1, answers: [], sentAt: t });
    return { fault: 'SIGSTOP mariadbd 20 s under traffic, then SIGCONT', checks: [{ name: 'BOUNDED', ok: took < 15_000, detail: `a write during the freeze answered ${res.status} after ${took} ms` }] };
  },
};
