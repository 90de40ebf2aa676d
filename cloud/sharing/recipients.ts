/**
 * Who may read which shares: recipients in a YAML file, each with the shares granted to it and its
 * bearer tokens, kept only as SHA-256 (a token is 32 random bytes, so a fast hash is enough and every
 * request can afford it) with an expiry. `echolake-cloud share-profile` adds tokens; the running
 * cloud rereads the file when it changes, so a new token works without a restart.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Logger } from '../../shared/log.js';

export const recipientsFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['recipients'],
  properties: {
    recipients: {
      type: 'array',
      maxItems: 10000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'shares', 'tokens'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9_.@-]{1,128}$' },
          shares: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 128 } },
          tokens: {
            type: 'array',
            maxItems: 20,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['tokenSha256', 'createdAt', 'expiresAt'],
              properties: {
                tokenSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
                createdAt: { type: 'string', format: 'date-time' },
                expiresAt: { type: 'string', format: 'date-time' },
              },
            },
          },
        },
      },
    },
  },
} as const;

export type RecipientsFile = FromSchema<typeof recipientsFileSchema>;
export type Recipient = RecipientsFile['recipients'][number];

export class RecipientsFileError extends Error {
  override name = 'RecipientsFileError';

  constructor(file: string, problems: string[]) {
    super(`recipients file ${file} is invalid:\n  - ${problems.join('\n  - ')}`);
  }
}

const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)) && /^\d{4}-\d\d-\d\dT/.test(value));
const validateRecipients = ajv.compile<RecipientsFile>(recipientsFileSchema);

const tokenDigest = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Reads and checks the file; one that does not exist yet holds no recipients. */
export function readRecipientsFile(file: string): RecipientsFile {
  if (!existsSync(file)) return { recipients: [] };
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8')) ?? { recipients: [] };
  } catch (err) {
    throw new RecipientsFileError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  if (!validateRecipients(parsed)) {
    throw new RecipientsFileError(file, (validateRecipients.errors ?? []).map((e) => `${e.instancePath || '(top level)'} ${e.message ?? 'is invalid'}`));
  }
  const names = parsed.recipients.map((recipient) => recipient.name);
  const repeated = names.filter((name, i) => names.indexOf(name) !== i);
  if (repeated.length > 0) throw new RecipientsFileError(file, repeated.map((name) => `recipient ${name} is listed more than once`));
  return parsed;
}

/** The whole file at once (temp file, then rename), readable by its owner only: the cloud never reads half of it. */
export function writeRecipientsFile(file: string, content: RecipientsFile): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, stringifyYaml(content), { mode: 0o600 });
  renameSync(temporary, file);
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
  recipient: Recipient;
}

/**
 * A new token for a recipient (created when missing; `shares`, when given, replace its grants).
 * Its expired tokens are dropped; unexpired ones stay, so an analyst's old profile works until its
 * own expiry (rotation without a cut-over).
 */
export function issueToken(file: string, name: string, options: { shares?: string[]; expiresAt: Date; now?: Date }): IssuedToken {
  const now = options.now ?? new Date();
  const content = readRecipientsFile(file);
  let recipient = content.recipients.find((candidate) => candidate.name === name);
  if (recipient === undefined) {
    if (options.shares === undefined || options.shares.length === 0) throw new Error(`recipient ${name} is new: name the shares it may read with --share`);
    recipient = { name, shares: [], tokens: [] };
    content.recipients.push(recipient);
  }
  if (options.shares !== undefined && options.shares.length > 0) recipient.shares = [...new Set(options.shares)];
  const token = randomBytes(32).toString('base64url');
  const live = recipient.tokens.filter((entry) => Date.parse(entry.expiresAt) > now.getTime());
  recipient.tokens = [...live, { tokenSha256: tokenDigest(token), createdAt: now.toISOString(), expiresAt: options.expiresAt.toISOString() }].slice(-20);
  writeRecipientsFile(file, content);
  return { token, expiresAt: options.expiresAt, recipient };
}

/** What a bearer token proves: a recipient and its shares, or why not. */
export type Authentication =
  | { ok: true; recipient: string; shares: ReadonlySet<string> }
  | { ok: false; reason: 'unknown' | 'expired'; expiredAt?: string };

interface KnownToken {
  recipient: string;
  shares: ReadonlySet<string>;
  expiresAt: number;
}

/**
 * The recipients file as the server sees it: checked against its stat on every request (one stat
 * call), reread when it changed. A change that does not validate is logged and the previous
 * recipients stay: a typo must not lock every analyst out.
 */
export class RecipientDirectory {
  private tokens = new Map<string, KnownToken>();
  private seen: string | undefined;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  authenticate(token: string, now = Date.now()): Authentication {
    this.refresh();
    const known = this.tokens.get(tokenDigest(token));
    if (known === undefined) return { ok: false, reason: 'unknown' };
    if (known.expiresAt <= now) return { ok: false, reason: 'expired', expiredAt: new Date(known.expiresAt).toISOString() };
    return { ok: true, recipient: known.recipient, shares: known.shares };
  }

  /** Reads the file if it changed since the last read (by inode, size and modification time). */
  refresh(): void {
    let stamp: string;
    try {
      const info = statSync(this.file);
      stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp === this.seen) return;
    this.seen = stamp;
    try {
      this.tokens = tokensOf(readRecipientsFile(this.file));
      this.log.info({ file: this.file, tokens: this.tokens.size }, stamp === 'missing' ? 'no recipients file yet: every request is refused until share-profile writes one' : 'sharing recipients read');
    } catch (err) {
      this.log.error({ file: this.file, err }, 'recipients file not reread: it has problems; the previous recipients stay');
    }
  }
}

function tokensOf(content: RecipientsFile): Map<string, KnownToken> {
  const tokens = new Map<string, KnownToken>();
  for (const recipient of content.recipients) {
    const shares = new Set(recipient.shares.map((share) => share.toLowerCase()));
    for (const entry of recipient.tokens) tokens.set(entry.tokenSha256, { recipient: recipient.name, shares, expiresAt: Date.parse(entry.expiresAt) });
  }
  return tokens;
}
