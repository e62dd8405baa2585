// A few lines of history routing: screens are real paths (/logs, /logs/<id>, /upstreams) so that
// they can be bookmarked and reloaded (the admin listener answers them with index.html), and
// filters live in the query string so that a filtered view can be shared.
import { useEffect, useState } from 'preact/hooks';

export interface Place {
  path: string;
  query: URLSearchParams;
}

const listeners = new Set<() => void>();

function current(): Place {
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  const screen = (path: string) => path.split(/[/?]/)[1] ?? '';
  const otherScreen = screen(to) !== screen(location.pathname);
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  // Another screen starts at its top, as a page load would; a record opened in the list keeps its place.
  if (otherScreen) window.scrollTo(0, 0);
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

export function usePlace(): Place {
  const [place, setPlace] = useState(current);
  useEffect(() => {
    const update = () => setPlace(current());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return place;
}

/** A path with a query string built from the non-empty entries. */
export function href(path: string, query: Record<string, string | undefined> | URLSearchParams = {}): string {
  const params = new URLSearchParams();
  const entries = query instanceof URLSearchParams ? [...query.entries()] : Object.entries(query);
  for (const [key, value] of entries) if (value !== undefined && value !== '') params.set(key, value);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Plain clicks on internal links route in the page; modified clicks (new tab, …) are left to the browser. */
export function follow(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? undefined;
  if (!anchor) return;
  event.preventDefault();
  navigate(anchor.getAttribute('href') ?? '/');
}
