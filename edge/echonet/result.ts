/**
 * Decoding untrusted bytes never throws: it answers with a result that is either the value or a
 * typed error. The error code is a closed union per decoder, so callers can count and log by code.
 */
export interface CodecError<C extends string> {
  readonly code: C;
  readonly message: string;
}

export type Result<T, C extends string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: CodecError<C> };

export function succeed<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail<C extends string>(code: C, message: string): { readonly ok: false; readonly error: CodecError<C> } {
  return { ok: false, error: { code, message } };
}
