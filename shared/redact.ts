/**
 * A URL as it may be logged: without its userinfo (`user:password@`), which would otherwise reach
 * journald, a log shipper and anyone who reads either. Used by both deployables for every URL
 * they log; what it cannot parse loses anything between `//` and `@` all the same.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/[^/?#]*@/, '//');
  }
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

/** The user name and password a URL carries, decoded; undefined where it has none. */
export function urlCredentials(url: string): { username: string | undefined; password: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { username: undefined, password: undefined };
  }
  const decode = (part: string): string | undefined => (part === '' ? undefined : decodeURIComponent(part));
  return { username: decode(parsed.username), password: decode(parsed.password) };
}
