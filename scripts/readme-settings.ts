// `npm run docs:settings`: rewrites the README's settings tables from the configuration schemas.
import { readFileSync, writeFileSync } from 'node:fs';
import { cloudConfigSchema } from '../cloud/config.js';
import { settingsTable, withSettingsTable } from '../shared/config-docs.js';

const file = new URL('../README.md', import.meta.url);
const readme = withSettingsTable(readFileSync(file, 'utf8'), 'cloud', settingsTable(cloudConfigSchema, 'ECHOLAKE_CLOUD_'));
writeFileSync(file, readme);
console.log('README.md settings tables rewritten');
