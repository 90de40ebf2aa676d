/** The page's place, from the URL's hash (`#/device/<id>`): links work without any server route. */
import { useEffect, useState } from 'preact/hooks';

function current(): string {
  return location.hash.replace(/^#/, '') || '/';
}

export function useHashRoute(): string {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const onChange = (): void => setRoute(current());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
