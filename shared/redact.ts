/**
 * A URL fit for a log line: user name and password removed (`mqtts://site:secret@host` →
 * `mqtts://host`). Used by both deployables for every URL they log; what URL cannot parse loses
 * anything between `//` and `@` all the same.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    // Not a URL we can take apart: drop anything up to an @ that could be credentials.
    return url.replace(/\/\/[^/@]*@/, '//');
  }
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
