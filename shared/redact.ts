/** A URL fit for a log line: user name and password removed (`mqtts://site:secret@host` → `mqtts://host`). */
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
