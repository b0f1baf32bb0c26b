/** docs/architecture.md describes the tree as it is: every top-level entry of src/ is in its layout. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const doc = fs.readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
const layout = doc.slice(doc.indexOf('## Layout'), doc.indexOf('### Where do I put'));

it('names every folder and top-level module of src/ in its layout', () => {
  const entries = fs
    .readdirSync(path.join(root, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory() || (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== 'version.ts'))
    .map((e) => `src/${e.name}`);
  expect(entries.filter((e) => !layout.includes(e))).toEqual([]);
});
