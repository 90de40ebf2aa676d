/** Failures answered in the protocol's shape `{ "errorCode", "message" }` (not the cloud API's `{ error }`). */
export type SharingStatus = 400 | 401 | 403 | 404;

export class SharingError extends Error {
  override name = 'SharingError';

  constructor(
    readonly statusCode: SharingStatus,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (message: string): SharingError => new SharingError(404, 'RESOURCE_DOES_NOT_EXIST', message);
export const invalidParameter = (message: string): SharingError => new SharingError(400, 'INVALID_PARAMETER_VALUE', message);
export const unauthenticated = (message: string): SharingError => new SharingError(401, 'UNAUTHENTICATED', message);
export const forbidden = (message: string): SharingError => new SharingError(403, 'PERMISSION_DENIED', message);
/**
 * A table this server cannot serve for what it uses (deletion vectors, column mapping, …). 400 with
 * UNSUPPORTED_OPERATION is what the reference server answers for a table whose features its response
 * format cannot carry: the request is fine, the table is not one it can share, and retrying will not help.
 */
export const unsupported = (message: string): SharingError => new SharingError(400, 'UNSUPPORTED_OPERATION', message);
