import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import WebSocket from 'ws';
import { startConveyor, type TestConveyor } from '../../helpers/conveyor.ts';
import { wsExtension } from '../../../src/ws/extension.ts';
import { createApp } from '../../../src/http/app.ts';
import { openApiPath } from '../../../src/http/openapi.ts';
import { places } from '../../../src/http/places.ts';

type Operation = { operationId?: string; tags?: string[]; summary?: string };
type Doc = { info: { description: string }; tags: { name: string }[]; paths: Record<string, Record<string, Operation>> };

const PUBLIC = new URL('../../../public/', import.meta.url);
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('OpenAPI lists every route the app serves', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  let doc: Doc;
  const admin = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };

  before(async () => {
    app = await startConveyor({ extensions: [wsExtension()] });
    const res = await app.get('/openapi.json');
    expect(res.status).to.equal(200);
    doc = res.body as Doc;
  });
  after(() => app?.stop());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).filter(([method]) => METHODS.includes(method)).map(([method, op]) => ({ path, method, op })));
  const documented = (path: string, method: string) => doc.paths[openApiPath(path)]?.[method.toLowerCase()] !== undefined;

  it('documents every route on the router, with its method', () => {
    const router = createApp(app.running.services).router;
    const routes = router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(layer.path) })));
    expect(routes.length).to.be.greaterThan(15);
    const missing = routes.filter((r) => !documented(r.path, r.method)).map((r) => `${r.method} ${r.path}`);
    expect(missing, 'routes served but not in /openapi.json').to.deep.equal([]);
  });

  it('documents what is served outside the router: every page under public/, the index, Bull Board, /docs/, /ws, /metrics', () => {
    const pages = readdirSync(PUBLIC).filter((name) => statSync(new URL(name, PUBLIC)).isDirectory()).map((dir) => `/${dir}/`);
    expect(pages).to.include('/chat/');
    const paths = [...pages, ...places({ api: true, ws: true }).map((p) => p.path)];
    const missing = paths.filter((path) => !documented(path, 'get'));
    expect(missing, 'served outside the router but not in /openapi.json').to.deep.equal([]);
  });

  it('gives every operation a unique operationId and a declared tag', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id)), JSON.stringify(ids)).to.equal(true);
    expect(new Set(ids).size).to.equal(ids.length);
    const declared = new Set(doc.tags.map((t) => t.name));
    for (const { path, method, op } of operations()) {
      expect(op.tags, `${method} ${path}`).to.have.length.greaterThan(0);
      for (const tag of op.tags!) expect(declared.has(tag), `${method} ${path}: tag ${tag}`).to.equal(true);
    }
  });

  it('names in info only the modules that have operations', () => {
    const named = /Modules: ([^.]+)\./.exec(doc.info.description)?.[1]?.split(', ') ?? [];
    expect(named).to.include.members(['chat', 'bonus']);
    const tagged = new Set(operations().flatMap(({ op }) => op.tags ?? []));
    for (const module of named) expect(tagged.has(module), module).to.equal(true);
    for (const absent of ['popug', 'hiring']) if (!tagged.has(absent)) expect(named).not.to.include(absent);
  });

  it('lists nothing that is not served: every documented path without parameters answers (not 404/405)', async () => {
    const token = await app.token({ sub: randomUUID(), role: 'admin' });
    for (const { path, method } of operations()) {
      if (path.includes('{') || path === '/ws') continue;
      const res = await fetch(app.url + path, {
        method: method.toUpperCase(),
        headers: { ...(path.startsWith('/admin') ? admin : { authorization: `Bearer ${token}` }), ...(method === 'get' ? {} : { 'content-type': 'application/json' }) },
        ...(method === 'get' ? {} : { body: '{}' }),
      });
      await res.arrayBuffer();
      expect([404, 405], `${method.toUpperCase()} ${path} answered ${res.status}`).not.to.include(res.status);
      expect(res.status, `${method.toUpperCase()} ${path}`).to.be.below(500);
    }
  });

  it('/ws, documented as an upgrade, answers 101', async () => {
    expect(Object.keys(doc.paths['/ws']!.get!)).to.include('responses');
    const token = await app.token({ sub: randomUUID(), role: 'client' });
    const ws = new WebSocket(`${app.url.replace('http', 'ws')}/ws?room=${randomUUID()}&token=${token}`);
    const status = await new Promise<number>((resolve, reject) => {
      ws.once('upgrade', (res) => resolve(res.statusCode ?? 0));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', reject);
    });
    ws.terminate();
    expect(status).to.equal(101);
  });
});

describe('GET / : the index page', function () {
  this.timeout(60_000);
  let app: TestConveyor;
  before(async () => (app = await startConveyor()));
  after(() => app?.stop());

  it('is HTML linking the API reference, OpenAPI, Bull Board, the chat page and metrics; every link answers 200', async () => {
    const res = await fetch(`${app.url}/`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    const html = await res.text();
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    expect(links).to.include.members(['/docs/', '/openapi.json', '/admin/queues', '/chat/', '/metrics']);
    for (const link of links) {
      const page = await fetch(app.url + link, { headers: link.startsWith('/admin') ? { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } : {} });
      await page.arrayBuffer();
      expect(page.status, link).to.equal(200);
    }
  });
});
