import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allProjections, commandOutcomesProjection } from '../..';
import { repoPath } from '../../../services/platform/paths';
import { topicsFor, loadConfig } from '../../../services/platform/config';
import type { AnyProjection } from '../../index';
import { notRebuildableReason, rebuildTargets, sharedTables } from './rebuild';

const topics = topicsFor(loadConfig({ KAFKA_TOPIC_PREFIX: 'unit' }));
const fake = (name: string, tables: string[], read = topics.assessment.events): AnyProjection => ({
  name,
  topics: () => [read],
  tables,
  apply: async () => undefined,
});

describe('which projections a rebuild takes', () => {
  test('every projection fed by the events topics; not command_outcomes (the replies topic keeps an hour)', () => {
    expect(rebuildTargets('all', topics).map((p) => p.name)).toEqual(
      allProjections.filter((p) => p !== commandOutcomesProjection).map((p) => p.name),
    );
    expect(notRebuildableReason(commandOutcomesProjection, topics)).toMatch(
      /^it reads unit\.replies, which is not an events topic/,
    );
  });

  test('names are checked against allProjections: unknown ones (a processor intake too) are 404s', () => {
    expect(() => rebuildTargets(['assessments', 'nope'], topics)).toThrow(
      expect.objectContaining({ code: 'PROJECTION_NOT_FOUND', status: 404 }),
    );
    expect(() => rebuildTargets(['processor.essay-scoring'], topics)).toThrow(
      expect.objectContaining({ code: 'PROJECTION_NOT_FOUND' }),
    );
    expect(() => rebuildTargets(['command_outcomes'], topics)).toThrow(
      expect.objectContaining({ code: 'PROJECTION_NOT_REBUILDABLE', status: 409 }),
    );
    expect(rebuildTargets(['audit', 'users', 'audit'], topics).map((p) => p.name)).toEqual(['audit', 'users']);
  });

  test('a table declared by two projections is found, and so is a projection declaring none', () => {
    expect(sharedTables(allProjections)).toEqual([]);
    expect(sharedTables([fake('a', ['x', 'y']), fake('b', ['y'])])).toEqual(['y (a and b)']);
    expect(notRebuildableReason(fake('c', []), topics)).toBe('it declares no tables');
  });
});

test("the tables the projections' SQL writes are the tables they declare (a rebuild replaces only those)", () => {
  const dir = repoPath('projections');
  const sources = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !['runtime', 'migrations', 'search', 'dashboards'].includes(d.name))
    .flatMap((d) =>
      readdirSync(join(dir, d.name))
        .filter((f) => f.endsWith('.ts') && !f.includes('.spec.') && f !== 'queries.ts')
        .map((f) => readFileSync(join(dir, d.name, f), 'utf8')),
    );
  const written = new Set(
    sources.flatMap((text) =>
      [...text.matchAll(/\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_][a-z0-9_]*)/g)].map((m) => m[1]!),
    ),
  );
  // The webhook projection deletes a deleted subscription's secrets, which the API writes: a
  // replay deletes them again (nothing), and a rebuild does not replace that table.
  written.delete('webhook_secrets');
  const declared = new Set(allProjections.flatMap((p) => [...p.tables]));
  expect([...written].sort()).toEqual([...declared].sort());
});
