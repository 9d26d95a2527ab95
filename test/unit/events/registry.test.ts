import { expect } from 'chai';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { eventRegistry, registeredEvents, upstreamEvents } from '../../../src/domain/events/catalog.ts';
import { SCHEMAS_DIR, schemaFiles } from '../../../src/domain/events/schemaFiles.ts';
import { EventRegistry, registerEvent, UnknownSchema } from '../../../src/domain/events/registry.ts';
import { TOPIC_APPEND_QUEUE } from '../../../src/domain/events/topics.ts';
import { defineEvent } from '../../../queues/outbox/envelope.ts';
import { compileSchema } from '../../../src/platform/validation.ts';
import { arbitraryOf } from '../../helpers/schemaExamples.ts';

const committed = (path: string) => readFileSync(join(SCHEMAS_DIR, path), 'utf8');

describe('event registry: published documents, upcasters, examples', () => {
  const files = schemaFiles(eventRegistry);

  it('every generated document equals the committed one (a published version never changes; run npm run schemas for a new one)', () => {
    for (const [path, text] of files) {
      let onDisk: string;
      try {
        onDisk = committed(path);
      } catch {
        throw new Error(`${SCHEMAS_DIR}/${path} is not committed: run npm run schemas and review it`);
      }
      expect(text, `${SCHEMAS_DIR}/${path} differs from what the registry generates`).to.equal(onDisk);
    }
  });

  it('no committed version has left the registry', () => {
    for (const name of readdirSync(SCHEMAS_DIR)) {
      for (const file of readdirSync(join(SCHEMAS_DIR, name))) expect(files.has(`${name}/${file}`), `${name}/${file}`).to.equal(true);
    }
  });

  it("publishes ExerciseCompleted v0 and ExerciseCreated v0's payload exactly as seed 001 wrote them", () => {
    const doc = eventRegistry.document('ExerciseCompleted', 0);
    const str = { type: 'string' };
    expect(doc).to.deep.equal({
      $defs: {
        ExerciseCompleted: {
          description: 'Exercise completed event payload',
          properties: {
            exercise_id: { title: 'Exercise Id', ...str },
            title: { title: 'Title', ...str },
            author_id: { title: 'Author Id', ...str },
            candidate_id: { title: 'Candidate Id', ...str },
            completed_at: { title: 'Completed At', ...str },
          },
          required: ['exercise_id', 'title', 'author_id', 'candidate_id', 'completed_at'],
          title: 'ExerciseCompleted',
          type: 'object',
        },
      },
      description: 'Initial json schema for exercise completed event',
      properties: {
        event_id: { title: 'Event Id', ...str },
        event_version: { const: 0, title: 'Event Version', type: 'integer' },
        event_name: { const: 'ExerciseCompleted', title: 'Event Name', ...str },
        produced_at: { title: 'Produced At', ...str },
        payload: { $ref: '#/$defs/ExerciseCompleted' },
      },
      required: ['event_id', 'event_version', 'event_name', 'produced_at', 'payload'],
      title: 'ExerciseCompletedEnvelope',
      type: 'object',
    });
    const created = (eventRegistry.document('ExerciseCreated', 0).$defs as Record<string, unknown>).ExerciseCreated;
    expect(created).to.deep.equal({
      description: 'ExerciseCreated payload',
      properties: {
        exercise_id: { title: 'Exercise Id', ...str },
        title: { title: 'Title', ...str },
        content: { title: 'Content', ...str },
        author_id: { title: 'Author Id', ...str },
        created_at: { title: 'Created At', ...str },
        updated_at: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null, title: 'Updated At' },
      },
      required: ['exercise_id', 'title', 'content', 'author_id', 'created_at'],
      title: 'ExerciseCreated',
      type: 'object',
    });
  });

  it('every document has the envelope form: title, description, $defs.<Name>, const name and version, payload $ref, five required fields', () => {
    for (const event of eventRegistry.list()) {
      for (const def of event.versions) {
        const doc = eventRegistry.document(event.name, def.version) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        expect(doc.title).to.equal(`${event.name}Envelope`);
        expect(doc.description).to.be.a('string').and.not.equal('');
        expect(doc.$defs[event.name]).to.be.an('object');
        expect(doc.properties.event_name.const).to.equal(event.name);
        expect(doc.properties.event_version.const).to.equal(def.version);
        expect(doc.properties.payload).to.deep.equal({ $ref: `#/$defs/${event.name}` });
        expect([...doc.required].sort()).to.deep.equal(['event_id', 'event_name', 'event_version', 'payload', 'produced_at']);
      }
    }
  });

  it('every version but the newest has an upcaster; a registry missing one, or with a gap, does not build', () => {
    for (const event of registeredEvents) {
      for (const def of event.versions.slice(0, -1)) expect(event.upcasters[def.version], `${event.name} v${def.version}`).to.be.a('function');
    }
    const v = (version: number) => defineEvent({ name: 'Probe', version, description: 'probe', schema: Type.Object({}), listeners: [] });
    expect(() => registerEvent({ name: 'Probe', topic: 't', versions: [v(0), v(1)], upcasters: {} })).to.throw(/no upcaster to v1/);
    expect(() => registerEvent({ name: 'Probe', topic: 't', versions: [v(0), v(2)], upcasters: { 0: (p) => p } })).to.throw(/without gaps/);
    expect(() => new EventRegistry([...registeredEvents, registeredEvents[0]!])).to.throw(/twice/);
  });

  it('every event with listeners reaches its topic: a topic-append row or a carrier among its listeners', () => {
    for (const event of registeredEvents) {
      for (const def of event.versions.filter((d) => d.listeners.length > 0)) {
        expect(def.listeners, `${event.name} v${def.version}`).to.include(event.appendedBy ?? TOPIC_APPEND_QUEUE);
      }
    }
    expect(registeredEvents.filter((e) => e.topic === 'domain.chat').map((e) => e.appendedBy)).to.not.include(undefined);
    const v = (listeners: string[]) => defineEvent({ name: 'Probe', version: 1, description: 'probe', schema: Type.Object({}), listeners });
    expect(() => registerEvent({ name: 'Probe', topic: 't', versions: [v(['x.work'])], upcasters: {} })).to.throw(/never reaches topic t/);
    expect(() => registerEvent({ name: 'Probe', topic: 't', versions: [v(['x.work'])], upcasters: {}, appendedBy: 'x.other' })).to.throw(/never reaches topic t/);
    expect(registerEvent({ name: 'Probe', topic: 't', versions: [v(['x.work'])], upcasters: {}, appendedBy: 'x.work' }).appendedBy).to.equal('x.work');
    expect(registerEvent({ name: 'Probe', topic: 't', versions: [v(['x.work', TOPIC_APPEND_QUEUE])], upcasters: {} }).name).to.equal('Probe');
  });

  it('generated examples of every version are valid, and each new version reads the previous one after upcasting', () => {
    for (const event of eventRegistry.list()) {
      const newest = event.versions.at(-1)!;
      for (const def of event.versions) {
        const doc = eventRegistry.document(event.name, def.version);
        const strict = compileSchema(def.schema);
        const newestCheck = compileSchema(newest.schema);
        fc.assert(
          fc.property(arbitraryOf(doc), (envelope) => {
            const check = eventRegistry.validate(event.name, def.version, envelope);
            expect(check.errors, `${event.name} v${def.version}`).to.deep.equal([]);
            const payload = (envelope as { payload: unknown }).payload;
            if (!strict(payload)) return; // the document is looser than the payload schema (seed form): sampled outside it
            let current = payload;
            for (let v = def.version; v < newest.version; v++) {
              current = (event.upcasters[v] as (p: unknown) => unknown)(current);
              const next = event.versions.find((d) => d.version === v + 1)!;
              expect(compileSchema(next.schema)(current), `${event.name} v${v} upcast to v${v + 1}: ${JSON.stringify(current)}`).to.equal(true);
            }
            expect(eventRegistry.upcast(event.name, def.version, payload)).to.deep.equal({ version: newest.version, payload: current });
            expect(newestCheck(current)).to.equal(true);
          }),
          { numRuns: 50 },
        );
      }
    }
  });

  it('upcasts ExerciseCompleted v0 with a null knowledge_area and drops the manager data from ReviewerAssigned v0', () => {
    const v0 = { exercise_id: 'e', title: 't', author_id: 'a', candidate_id: 'c', completed_at: '2026-01-01T00:00:00.000Z' };
    expect(eventRegistry.upcast('ExerciseCompleted', 0, v0)).to.deep.equal({ version: 1, payload: { ...v0, knowledge_area: null } });
    const r0 = { candidate_id: 'c', reviewer_id: 'm', reviewer_name: 'Ann', reviewer_email: 'ann@x', assigned_at: '2026-01-01T00:00:00.000Z' };
    expect(eventRegistry.upcast('ReviewerAssigned', 0, r0).payload).to.deep.equal({ candidate_id: 'c', reviewer_id: 'm', assigned_at: r0.assigned_at });
  });

  it('names the failing field and refuses unknown names and versions', () => {
    const bad = { event_id: 'x', event_name: 'ExerciseCompleted', event_version: 1, produced_at: 'now', payload: { title: 3 } };
    const result = eventRegistry.validate('ExerciseCompleted', 1, bad);
    expect(result.valid).to.equal(false);
    const paths = result.errors.map((e) => e.path);
    expect(paths).to.include.members(['payload.title', 'payload.exercise_id', 'payload.knowledge_area']);
    expect(() => eventRegistry.validate('ExerciseCompleted', 7, bad)).to.throw(UnknownSchema);
    expect(() => eventRegistry.document('Nope', 0)).to.throw(UnknownSchema);
  });

  it('takes at the door every bonus and exercise event, never internal ones', () => {
    const names = new Set(upstreamEvents.map((e) => e.name));
    expect([...names].sort()).to.deep.equal(
      ['AccountLinked', 'ExerciseCompleted', 'ExerciseCreated', 'ExerciseFailed', 'ExerciseUpdated', 'ListingBanned', 'ListingPublished', 'ListingUpdated'],
    );
  });
});
