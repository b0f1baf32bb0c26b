/**
 * docs/environment.md and the code must name the same variables: every variable src/ reads is
 * documented with a default, the doc lists nothing the code never reads, and only the config
 * schema touches process.env.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentOnlyVariableNames } from '../../src/config/agent.ts';
import { deprecatedAliases, environmentVariableNames } from '../../src/config/schema.ts';

const root = path.resolve(import.meta.dirname, '../..');
const doc = fs.readFileSync(path.join(root, 'docs/environment.md'), 'utf8');
/** Rows of the doc's tables: | `NAME` | default | meaning | */
const documentedRows = [...doc.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|([^|]*)\|/gm)];
const documented = documentedRows.map((m) => m[1]!);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const sources = sourceFiles(path.join(root, 'src')).map((file) => ({
  file: path.relative(root, file),
  text: fs.readFileSync(file, 'utf8'),
}));

describe('docs/environment.md', () => {
  it('documents every variable the config schema (and the agent) reads', () => {
    expect([...environmentVariableNames, ...agentOnlyVariableNames].filter((n) => !documented.includes(n))).toEqual([]);
  });

  it('lists no variable the code never reads', () => {
    const read = [...environmentVariableNames, ...Object.keys(deprecatedAliases), ...agentOnlyVariableNames];
    expect(documented.filter((n) => !read.includes(n))).toEqual([]);
  });

  it('documents every deprecated alias with the name that replaces it', () => {
    for (const [old, current] of Object.entries(deprecatedAliases)) expect(doc).toContain(`| \`${old}\` | alias of \`${current}\` |`);
  });

  it('gives every variable a default (or says none)', () => {
    for (const row of documentedRows) expect(row[2]!.trim(), row[1]).not.toBe('');
  });

  it("states the schema's literal defaults (CERTFLEET_HEARTBEAT_LANES once said 4 while the code said 1)", () => {
    const schema = fs.readFileSync(path.join(root, 'src/config/schema.ts'), 'utf8');
    const defaults = [...schema.matchAll(/^\s*(CERTFLEET_[A-Z0-9_]+): withDefault\(.*, '([^']*)'\),\s*$/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(defaults.length).toBeGreaterThan(20);
    const plain = (text: string) => text.replace(/[,_\s]/g, '');
    const wrong = defaults.filter(([name, value]) => {
      const cell = documentedRows.find((row) => row[1] === name)?.[2] ?? '';
      return !plain(cell).includes(plain(`\`${value}\``));
    });
    expect(wrong).toEqual([]);
  });

  it('covers every CERTFLEET_ name mentioned anywhere in src/', () => {
    const mentioned = new Set(sources.flatMap((s) => s.text.match(/CERTFLEET_[A-Z0-9_]+/g) ?? []));
    expect([...mentioned].filter((n) => !documented.includes(n))).toEqual([]);
  });

  it('is the only reader of process.env: src/config', () => {
    const readers = sources
      .filter((s) => /process\.env\b(?!\s*\})/.test(s.text.replace(/\{\s*\.\.\.process\.env/g, '')))
      .map((s) => s.file)
      .filter((f) => !f.startsWith(path.join('src', 'config')) && !f.startsWith(path.join('src', 'cli')));
    expect(readers).toEqual([]);
  });
});
