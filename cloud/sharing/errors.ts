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
