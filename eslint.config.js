// @ts-check
// npm run lint: typescript-eslint's recommended rules, and the layer boundaries of
// docs/architecture.md as import rules: a layer may use the layers below it, never one above
// or beside it.
//   domain <- db <- services (and scheduler, workers, pki) <- http; cli, app.ts and src/wiring compose them
// - domain imports nothing of certfleet but pki's types;
// - db imports domain and its own helpers only; only db imports pg and pg-cursor;
// - services never import http; http never imports db (it gets services);
// - the agent (runs on every host) imports no server code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (dirs) => dirs.map((d) => `**/${d}/**`);
const pgOnlyInDb = { name: 'pg', message: 'Only src/db talks to PostgreSQL: use a repository.' };
const cursorOnlyInDb = { name: 'pg-cursor', message: 'Only src/db talks to PostgreSQL: use a repository.' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'loadtest/results/**', 'dist/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        Headers: 'readonly',
        Response: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        NodeJS: 'readonly',
        __ENV: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [pgOnlyInDb, cursorOnlyInDb] }],
    },
  },
  {
    files: ['src/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [pgOnlyInDb, cursorOnlyInDb],
          patterns: [
            {
              group: layer(['db', 'services', 'http', 'scheduler', 'workers', 'agent', 'cli', 'acme', 'config', 'observability']),
              message: 'domain is the bottom layer: it imports nothing above it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/db/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: layer(['services', 'http', 'scheduler', 'workers', 'agent', 'cli', 'acme']),
              message: 'db executes what services ask: it imports domain and its own helpers, nothing above.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/services/**', 'src/scheduler/**', 'src/workers/**', 'src/pki/**', 'src/acme/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [pgOnlyInDb, cursorOnlyInDb],
          patterns: [
            {
              group: layer(['http', 'cli', 'agent', 'wiring']),
              message: 'services (and the scheduler, workers and pki) never reach up into http, cli, the agent or the wiring.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/http/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [pgOnlyInDb, cursorOnlyInDb],
          patterns: [{ group: layer(['db', 'cli', 'agent']), message: "http calls services (and reads the scheduler's state); it never touches db directly." }],
        },
      ],
    },
  },
  {
    files: ['src/agent/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            pgOnlyInDb,
            cursorOnlyInDb,
            { name: 'piscina', message: 'The agent runs on every host: no server modules.' },
            { name: 'prom-client', message: 'The agent runs on every host: no server modules.' },
          ],
          patterns: [
            {
              group: [...layer(['db', 'services', 'http', 'scheduler', 'workers', 'acme', 'wiring']), '!**/scheduler/loop.ts'],
              message: 'The agent runs on every host: it imports no server code (the generic Loop excepted).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**', 'bench/**', 'loadtest/**', 'scripts/**'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
