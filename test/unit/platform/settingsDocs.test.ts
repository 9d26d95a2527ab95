import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { loadConfig } from '../../../src/config.ts';

/** Every variable loadConfig reads, recorded through an environment that answers nothing. */
function settingNames(): Set<string> {
  const names = new Set<string>();
  // Production reads a few more (its checks); it refuses this empty environment, after reading.
  for (const mode of ['development', 'production']) {
    const env = new Proxy({} as Record<string, string | undefined>, {
      get(_target, key) {
        if (typeof key === 'string') names.add(key);
        return key === 'NODE_ENV' ? mode : undefined;
      },
    });
    try {
      loadConfig(env);
    } catch {
      // the production pass: required secrets missing
    }
  }
  return names;
}

const names = settingNames();
const envExample = readFileSync('.env.example', 'utf8');
const exampleNames = [...envExample.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);

describe('settings: every variable src/config.ts reads is documented', () => {
  it('the recorded list is the real one (sanity: the proxy saw the settings)', () => {
    expect(names.size).to.be.greaterThan(50);
    expect([...names]).to.include.members(['PORT', 'DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'WS_ORIGINS', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'SHUTDOWN_TIMEOUT']);
  });

  it('.env.example lists every setting, and nothing that is not one', () => {
    expect([...names].filter((n) => !exampleNames.includes(n)), 'missing from .env.example').to.deep.equal([]);
    expect(exampleNames.filter((n) => !names.has(n)), 'in .env.example but not read by src/config.ts').to.deep.equal([]);
  });

  it('.env.example, copied to .env as it is, starts (development) without a problem', () => {
    const config = loadConfig(parseEnv(envExample));
    expect(config.env).to.equal('development');
    expect(config.port).to.equal(3000);
  });

  it("README's Settings name every setting", () => {
    const readme = readFileSync('README.md', 'utf8');
    expect([...names].filter((n) => !readme.includes(`\`${n}\``)), 'missing from README').to.deep.equal([]);
  });

  it('docs/API.md "Running it" names only real settings, and points to the full list', () => {
    const api = readFileSync('docs/API.md', 'utf8');
    const section = api.slice(api.indexOf('## Running it'), api.indexOf('\n## ', api.indexOf('## Running it') + 1));
    const documented = [...section.matchAll(/^\| (.+?) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((n) => n[1]!));
    expect(documented.length).to.be.greaterThan(5);
    expect(documented.filter((n) => !names.has(n)), 'in docs/API.md but not read by src/config.ts').to.deep.equal([]);
    expect(section).to.include('.env.example');
  });
});
