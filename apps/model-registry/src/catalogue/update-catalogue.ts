import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildCatalogue } from './build-catalogue.js';
import { defaultCataloguePath } from './catalogue-file.js';

/**
 * The catalogue update command: rewrites the data file from the source files a manifest names.
 *
 *   npm run build && npx node dist/apps/model-registry/src/catalogue/update-catalogue.js \
 *     apps/model-registry/catalogue/sources.json [output.json]
 *
 * The registry applies the new file at its next start (new models added, changed prices added
 * as new versions, nothing rewritten).
 */
function main(argv: string[]): void {
  const [manifest, output] = argv;
  if (!manifest) {
    process.stderr.write('usage: update-catalogue <sources.json> [output.json]\n');
    process.exitCode = 2;
    return;
  }
  const catalogue = buildCatalogue(path.resolve(manifest), new Date());
  const target = output ? path.resolve(output) : defaultCataloguePath();
  writeFileSync(target, `${JSON.stringify(catalogue, null, 2)}\n`);
  process.stdout.write(`wrote ${catalogue.definitions.length} definitions (${catalogue.skipped.length} source entries skipped) to ${target}\n`);
}

main(process.argv.slice(2));
