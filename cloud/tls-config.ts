/**
 * A server's certificate and key, as the embedded broker and the API both take them: with both
 * set the server speaks TLS only; `cloud/config.ts` refuses one without the other.
 */
export function serverTlsSchema(protocol: string) {
  return {
    type: 'object',
    additionalProperties: false,
    default: {},
    required: [],
    properties: {
      certFile: { type: 'string', minLength: 1, description: `PEM certificate chain; with keyFile the ${protocol} only` },
      keyFile: { type: 'string', minLength: 1, description: 'PEM private key of certFile' },
    },
  } as const;
}
