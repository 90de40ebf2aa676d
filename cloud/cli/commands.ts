/**
 * The cloud's administrative commands, run as `echolake-cloud COMMAND …` beside the service:
 * `site add|rotate|disable|enable|list`, `mosquitto-config OUT_DIR`, `operator-token NAME`,
 * `share-profile RECIPIENT`, `power-grid generate`.
 * They read the same configuration (`--config FILE`, environment) to find the site registry.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../shared/config.js';
import { loadCloudConfig } from '../config.js';
import { newOperatorToken } from '../http/auth.js';
import { sharingEndpoint, sharingProfile } from '../sharing/profile.js';
import { issueToken } from '../sharing/recipients.js';
import { writeMosquittoFiles } from '../sites/mosquitto.js';
import { addSite, disableSite, enableSite, rotateSecret, type SiteCredentials } from '../sites/admin.js';
import { readRegistryFile } from '../sites/file-registry.js';
import { mosquittoHash } from '../sites/secrets.js';
import { createLogger } from '../../shared/log.js';
import { openTableStore } from '../lake/storage/open-store.js';
import { POWER_GRID_TABLE } from '../lake/tables/power-grid.js';
import { AREAS, type GeneratorOptions, generatePowerGrid } from '../power-grid/generator.js';
import { writePowerGrid } from '../power-grid/write.js';

const USAGE = `usage: echolake-cloud COMMAND [--config FILE] [--set path=value ...]
  site add ID --name NAME [--location LAT,LON] [--time-zone ZONE] [--uplink-url URL] [--ca-file FILE]
  site rotate ID [--drop-old] [--uplink-url URL] [--ca-file FILE]
  site disable ID | site enable ID | site list
  mosquitto-config OUT_DIR        write Mosquitto's password_file and acl_file from the registry
  operator-token NAME             make an operator token and print its api.operators entry
  share-profile RECIPIENT [--share SHARE ...] [--days N] [--endpoint URL] [--out FILE]
                                  a Delta Sharing token for RECIPIENT (granted the shares named) and its profile file
  power-grid generate [--from YYYY-MM-DD] [--days N] [--areas tokyo,kansai,…] [--seed N]
                                  dummy power-grid supply and demand into the lake's power_grid table`;

const COMMANDS = new Set(['site', 'mosquitto-config', 'operator-token', 'share-profile', 'power-grid']);

/** Runs a command if argv names one; false when argv is the service's own command line. */
export async function runCloudCommand(argv: string[]): Promise<boolean> {
  const [command] = argv;
  if (command === undefined || !COMMANDS.has(command)) return false;
  try {
    await run(argv);
    process.exitCode = 0;
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
  }
  return true;
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      set: { type: 'string', multiple: true },
      name: { type: 'string' },
      location: { type: 'string' },
      'time-zone': { type: 'string' },
      'uplink-url': { type: 'string' },
      'ca-file': { type: 'string' },
      'drop-old': { type: 'boolean' },
      share: { type: 'string', multiple: true },
      days: { type: 'string' },
      endpoint: { type: 'string' },
      out: { type: 'string' },
      from: { type: 'string' },
      areas: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const config = loadCloudConfig(values.config, process.env, values.set ?? []);
  const file = config.sites.file;
  const [command, verb, argument] = positionals;
  const edgeBlock = { uplinkUrl: values['uplink-url'] ?? defaultUplinkUrl(config), caFile: values['ca-file'] };
  if (command === 'operator-token') {
    if (verb === undefined) throw new Error('operator-token needs a NAME');
    const { token, entry } = newOperatorToken(verb);
    console.log(`# token for ${verb} (shown once; give it to the operator):\n${token}\n# add to api.operators in the cloud's configuration:\n- name: ${entry.name}\n  tokenSha256: ${entry.tokenSha256}`);
    return;
  }
  if (command === 'power-grid') {
    if (verb !== 'generate') throw new Error('power-grid needs generate');
    const options = powerGridOptions(values);
    const written = await writePowerGrid(openTableStore(config.lake.root, POWER_GRID_TABLE.name, config.lake.s3), generatePowerGrid(options), createLogger('cloud'), 'echolake-cloud power-grid');
    console.log(`power_grid version ${written.version}: ${written.rows} hours of ${options.areas.join(', ')} from ${new Date(options.fromMs).toISOString().slice(0, 10)}`);
    return;
  }
  if (command === 'share-profile') {
    if (verb === undefined) throw new Error('share-profile needs a RECIPIENT');
    writeShareProfile(config, verb, values);
    return;
  }
  if (command === 'mosquitto-config') {
    if (verb === undefined) throw new Error('mosquitto-config needs an OUT_DIR');
    const password = config.mqtt.passwordFile === undefined ? config.mqtt.password : readFileSync(config.mqtt.passwordFile, 'utf8').trim();
    const cloudUser = { username: config.mqtt.username, hash: password === undefined ? undefined : await mosquittoHash(password) };
    const written = writeMosquittoFiles(readRegistryFile(file), verb, cloudUser);
    const missing = cloudUser.hash === undefined ? `; no mqtt.password(File) is configured, so add the cloud user yourself: mosquitto_passwd -b ${written[0]} ${config.mqtt.username} <password>` : '';
    console.log(`wrote ${written.join(' and ')}; send Mosquitto SIGHUP to reload them${missing}`);
    return;
  }
  switch (verb) {
    case 'add': {
      if (argument === undefined || values.name === undefined) throw new Error('site add needs ID and --name NAME');
      printEdgeBlock(await addSite(file, { id: argument, name: values.name, location: parseLocation(values.location), timeZone: values['time-zone'] ?? 'UTC' }), edgeBlock);
      return;
    }
    case 'rotate':
      if (argument === undefined) throw new Error('site rotate needs ID');
      printEdgeBlock(await rotateSecret(file, argument, values['drop-old'] ?? false), edgeBlock);
      return;
    case 'disable':
    case 'enable':
      if (argument === undefined) throw new Error(`site ${verb} needs ID`);
      (verb === 'disable' ? disableSite : enableSite)(file, argument);
      console.log(`site ${argument} ${verb}d; the running cloud picks it up within sites.reloadCheckMs`);
      return;
    case 'list':
      for (const site of readRegistryFile(file).sites) console.log(`${site.id}\t${site.enabled ? 'enabled' : 'disabled'}\t${site.name}\t${site.secrets.length} secret(s)`);
      return;
    default:
      throw new Error(`unknown command: ${positionals.join(' ')}`);
  }
}

function powerGridOptions(values: { from?: string; days?: string; areas?: string; seed?: string }): GeneratorOptions {
  const from = values.from ?? new Date().toISOString().slice(0, 10);
  const fromMs = Date.parse(`${from}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !Number.isFinite(fromMs)) throw new Error(`--from ${from}: give a date, YYYY-MM-DD`);
  const days = Number(values.days ?? '7');
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new Error(`--days ${values.days}: give 1 to 366`);
  const seed = Number(values.seed ?? '1');
  if (!Number.isInteger(seed)) throw new Error(`--seed ${values.seed}: give an integer`);
  const areas = (values.areas ?? Object.keys(AREAS).join(',')).split(',').map((area) => area.trim());
  const unknown = areas.filter((area) => AREAS[area] === undefined);
  if (unknown.length > 0) throw new Error(`--areas: unknown ${unknown.join(', ')}; known: ${Object.keys(AREAS).join(', ')}`);
  return { areas, fromMs, days, seed };
}

function defaultUplinkUrl(config: ReturnType<typeof loadCloudConfig>): string {
  if (config.broker.enabled) return `${config.broker.tls.certFile === undefined ? 'mqtt' : 'mqtts'}://<this host>:${config.broker.port}`;
  return config.mqtt.url;
}

/**
 * A new token for the recipient in the recipients file (the running cloud picks it up at its next
 * request) and the profile file the analyst loads; the token itself is kept nowhere else.
 */
function writeShareProfile(config: ReturnType<typeof loadCloudConfig>, recipient: string, options: { share?: string[]; days?: string; endpoint?: string; out?: string }): void {
  const known = new Map(config.sharing.shares.map((share) => [share.name.toLowerCase(), share.name]));
  const shares = (options.share ?? []).map((name) => {
    const share = known.get(name.toLowerCase());
    if (share === undefined) throw new Error(`--share ${name}: no such share in sharing.shares (${[...known.values()].join(', ') || 'none configured'})`);
    return share;
  });
  const days = options.days === undefined ? config.sharing.tokenExpiryDays : Number(options.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error(`--days ${options.days}: give whole days from 1 to 3650`);
  const endpoint = options.endpoint ?? sharingEndpoint(config);
  if (!/^https?:\/\/[^\s]+$/.test(endpoint)) throw new Error(`--endpoint ${endpoint}: give the URL analysts reach the sharing endpoint at, e.g. https://lake.example.com/delta-sharing`);
  const issued = issueToken(config.sharing.recipientsFile, recipient, { shares, expiresAt: new Date(Date.now() + days * 86_400_000) });
  const out = options.out ?? `${recipient}.share`;
  writeFileSync(out, `${JSON.stringify(sharingProfile(endpoint, issued.token, issued.expiresAt), null, 2)}\n`, { mode: 0o600 });
  console.log(
    `wrote the profile file ${out} for ${recipient} (shares: ${issued.recipient.shares.join(', ')}; expires ${issued.expiresAt.toISOString()}).\n` +
      `Hand it to the analyst over a private channel: it holds the bearer token, which ${config.sharing.recipientsFile} keeps only hashed.`,
  );
}

function parseLocation(text: string | undefined): { latitude: number; longitude: number } | undefined {
  if (text === undefined) return undefined;
  const [latitude, longitude] = text.split(',').map(Number);
  if (latitude === undefined || longitude === undefined || !Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
    throw new Error(`--location ${text}: give LAT,LON in degrees, e.g. 35.68,139.77`);
  }
  return { latitude, longitude };
}

/** The block a technician pastes into the edge's configuration (the secret is shown this once only). */
function printEdgeBlock(credentials: SiteCredentials, edge: { uplinkUrl: string; caFile: string | undefined }): void {
  console.log(`# site ${credentials.siteId}, secret ${credentials.secretId}; shown this once (the registry keeps only its hashes).
# On the gateway, as root: the secret into a root-only file the unit hands over with LoadCredential=
#   install -m 0600 /dev/null /etc/echolake/uplink.password && printf '%s' '${credentials.secret}' > /etc/echolake/uplink.password
# then this block into /etc/echolake/edge.yaml:
siteId: ${credentials.siteId}
uplink:
  url: ${edge.uplinkUrl}
  username: ${credentials.siteId}
  passwordFile: /run/credentials/echolake-edge.service/uplink.password${edge.caFile === undefined ? '' : `\n  tls:\n    caFile: ${edge.caFile}`}`);
}
