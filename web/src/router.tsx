import type { ComponentChildren, PartialAnchorHTMLAttributes, TargetedMouseEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

// Minimal History-API router.

export interface Location {
  pathname: string;
  search: string;
}

const listeners = new Set<() => void>();

function current(): Location {
  return { pathname: window.location.pathname, search: window.location.search };
}

function notify(): void {
  for (const fn of listeners) fn();
}

window.addEventListener('popstate', notify);

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const target = new URL(to, window.location.origin);
  const href = target.pathname + target.search + target.hash;
  if (href === window.location.pathname + window.location.search + window.location.hash) {
    if (!opts.replace) return;
  }
  if (opts.replace) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  window.scrollTo(0, 0);
  notify();
}

export function useLocation(): Location {
  const [loc, setLoc] = useState<Location>(current);
  useEffect(() => {
    const fn = () => setLoc(current());
    listeners.add(fn);
    fn();
    return () => {
      listeners.delete(fn);
    };
  }, []);
  return loc;
}

/** Only same-site absolute paths are accepted as post-login destinations. */
export function safeNext(search: string, fallback = '/me'): string {
  const next = new URLSearchParams(search).get('next');
  if (next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\')) return next;
  return fallback;
}

type AnchorProps = Omit<PartialAnchorHTMLAttributes<HTMLAnchorElement>, 'href' | 'onClick' | 'role'> & {
  href: string;
  children?: ComponentChildren;
  onClick?: (e: TargetedMouseEvent<HTMLAnchorElement>) => void;
};

export function Link({ href, onClick, ...rest }: AnchorProps) {
  const handle = (e: TargetedMouseEvent<HTMLAnchorElement>) => {
    if (onClick) onClick(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (rest.target && rest.target !== '_self') return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}
