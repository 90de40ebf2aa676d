import { Counter } from 'prom-client';
import type { Component } from '../../shared/lifecycle.js';
import { RepeatedWarnings } from '../../shared/repeated-warnings.js';
import type { CloudContext } from '../context.js';
import { Catalog } from '../sharing/catalog.js';
import { RecipientDirectory } from '../sharing/recipients.js';
import { sharingRoutes } from '../sharing/routes.js';
import { UrlSigner } from '../sharing/signed-url.js';
import { SharedTables } from '../sharing/tables.js';
import type { Role } from './role.js';

/** One log line per minute per kind of refusal a stranger can repeat (unknown tokens, forged file URLs). */
const REFUSAL_LOG_WINDOW_MS = 60_000;

/**
 * The lake's tables for analysts over the Delta Sharing protocol, on the cloud API under
 * `sharing.prefix`: recipients' tokens from `sharing.recipientsFile`, file URLs pre-signed (S3) or
 * signed by this server (a local folder). It reads the tables the lake role writes, never writes.
 */
export function sharingRole(): Role {
  let parts: { recipients: RecipientDirectory; warnings: RepeatedWarnings } | undefined;
  return {
    name: 'sharing',
    enabled: (config) => config.roles.sharing,
    components(context: CloudContext): Component[] {
      const settings = context.config.sharing;
      const log = context.log.child({ part: 'sharing' });
      const directory = new RecipientDirectory(settings.recipientsFile, log);
      const warnings = new RepeatedWarnings(log, REFUSAL_LOG_WINDOW_MS);
      parts = { recipients: directory, warnings };
      return [
        {
          name: 'sharing',
          start: () => {
            directory.refresh();
            log.info({ prefix: settings.prefix, shares: settings.shares.map((share) => share.name) }, 'delta sharing serving');
          },
          stop: () => warnings.flush(),
        },
      ];
    },
    routes(app, context) {
      if (parts === undefined) throw new Error('the sharing role adds its routes after its components');
      const { config } = context;
      const signer = new UrlSigner(config.sharing.urlSigningKey);
      const tables = new SharedTables({ lakeRoot: config.lake.root, s3: config.lake.s3, s3PublicEndpoint: config.sharing.s3PublicEndpoint, signer, urlExpirySeconds: config.sharing.urlExpirySeconds, prefix: config.sharing.prefix });
      const refused = new Counter({ name: 'echolake_sharing_refused_total', help: 'Delta Sharing requests refused, by reason', labelNames: ['reason'], registers: [context.metrics] });
      void app.register(sharingRoutes, { prefix: config.sharing.prefix, config: config.sharing, catalog: new Catalog(config.sharing.shares), ...parts, tables, signer, refused });
    },
  };
}
