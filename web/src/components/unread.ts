import { useEffect, useState } from 'preact/hooks';
import { getSession, listNotifications } from '../api';
import { isUnavailable } from './social';

// The unread notification count shown on the bell: one shared value, polled
// (GET /notifications?limit=1) every 30 s while signed in and on navigation,
// and set directly when the notifications page marks things read.

let unread = 0;
let available = true;
let lastFetch = 0;
let inFlight: Promise<void> | null = null;
const listeners = new Set<(n: number) => void>();

export function setUnread(n: number): void {
  unread = Math.max(0, n | 0);
  for (const fn of listeners) fn(unread);
}

export function refreshUnread(force = false): Promise<void> {
  if (!available || getSession().status !== 'signed-in') return Promise.resolve();
  if (inFlight) return inFlight;
  if (!force && Date.now() - lastFetch < 3000) return Promise.resolve();
  lastFetch = Date.now();
  inFlight = listNotifications(1)
    .then((p) => setUnread(p.unread_count ?? 0))
    .catch((err) => {
      if (isUnavailable(err)) available = false;
    })
    .finally(() => {
      inFlight = null;
    });
  return inFlight;
}

export function useUnread(signedIn: boolean, pathname: string): number {
  const [n, setN] = useState(unread);
  useEffect(() => {
    listeners.add(setN);
    return () => {
      listeners.delete(setN);
    };
  }, []);
  useEffect(() => {
    if (!signedIn) {
      setUnread(0);
      return;
    }
    void refreshUnread(true);
    const id = setInterval(() => {
      if (document.visibilityState !== 'hidden') void refreshUnread(true);
    }, 30_000);
    return () => {
      clearInterval(id);
      setUnread(0); // signed out: the next account starts from its own count
    };
  }, [signedIn]);
  useEffect(() => {
    if (signedIn) void refreshUnread();
  }, [pathname]);
  return n;
}
