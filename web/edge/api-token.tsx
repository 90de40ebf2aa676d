/**
 * Changes need the API's bearer token (api.token): typed once, kept for this tab only
 * (sessionStorage), sent only to this gateway. The discovery action and the setting form share it.
 */
import { useState } from 'preact/hooks';

const STORAGE_KEY = 'echolake.apiToken';

export interface ApiToken {
  readonly value: string;
  set(value: string): void;
  /** The Authorization header for a change; remembers the token for the tab, as it is being used. */
  authorization(): string;
}

export function useApiToken(): ApiToken {
  const [value, set] = useState(() => sessionStorage.getItem(STORAGE_KEY) ?? '');
  return {
    value,
    set,
    authorization: () => {
      sessionStorage.setItem(STORAGE_KEY, value);
      return `Bearer ${value}`;
    },
  };
}

export function TokenField({ token, label }: { token: ApiToken; label: string }) {
  return (
    <label>
      {label} <input type="password" autocomplete="off" value={token.value} onInput={(e) => token.set(e.currentTarget.value)} data-testid="api-token" />
    </label>
  );
}
