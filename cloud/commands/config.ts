import type { FromSchema } from 'json-schema-to-ts';

export const commandsConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['topic', 'followerGroupPrefix', 'maxWindowMinutes', 'maxSitesPerCommand', 'keepCommands'],
  properties: {
    topic: {
      type: 'string',
      minLength: 1,
      default: 'echolake.commands',
      description: 'the audit: every command, its author, every delivery and result, keyed by command id; every commands instance reads it whole',
    },
    followerGroupPrefix: { type: 'string', minLength: 1, default: 'echolake-commands', description: 'prefix of the throwaway consumer group that reads the audit topic' },
    maxWindowMinutes: { type: 'integer', minimum: 1, maximum: 10_080, default: 1_440, description: 'the longest window (notBefore to expiresAt) a command may have; each site may allow less' },
    maxSitesPerCommand: { type: 'integer', minimum: 1, maximum: 10_000, default: 1_000, description: 'the most sites one command may reach' },
    keepCommands: { type: 'integer', minimum: 100, maximum: 1_000_000, default: 10_000, description: 'commands kept in memory for GET /api/v1/commands/{id}, newest; older ones stay in the audit topic' },
  },
} as const;

export type CommandsConfig = FromSchema<typeof commandsConfigSchema>;
