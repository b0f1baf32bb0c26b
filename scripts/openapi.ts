/** `npm run openapi`: regenerates docs/openapi.yaml from the route definitions. */
import fs from 'node:fs';
import { documentedRoutes } from '../test/support/documented-routes.ts';
import { renderOpenApiYaml } from '../src/http/openapi.ts';
import { version } from '../src/version.ts';

const target = new URL('../docs/openapi.yaml', import.meta.url);
fs.writeFileSync(target, renderOpenApiYaml(documentedRoutes(), version));
console.log(`wrote ${target.pathname}`);
