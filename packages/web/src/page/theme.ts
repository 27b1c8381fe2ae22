// Light / dark / follow-the-system theme, saved in localStorage and applied as <html data-theme>.
import { useSyncExternalStore } from 'react';

export type ThemeChoice = 'auto' | 'light' | 'dark';
const KEY = 'cascade.theme';

function load(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'auto';
  } catch {
    return 'auto';
  }
}

let choice = load();
const listeners = new Set<() => void>();
const media = window.matchMedia('(prefers-color-scheme: dark)');
media.addEventListener('change', () => listeners.forEach((fn) => fn()));

/** The top bar's colour (--bg-elev) of each theme: the phone's status bar and an installed app's
 *  title bar take it from index.html's theme-color metas, one per system scheme. */
const BAR = { light: '#ffffff', dark: '#171b24' };

function apply(): void {
  if (choice === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  // A chosen theme holds whatever the system prefers: both metas say its colour.
  for (const meta of Array.from(document.querySelectorAll<HTMLMetaElement>('meta[name="theme-color"]'))) {
    meta.content = choice !== 'auto' ? BAR[choice] : meta.media.includes('dark') ? BAR.dark : BAR.light;
  }
}
apply();

export function setTheme(next: ThemeChoice): void {
  choice = next;
  try {
    if (next === 'auto') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, next);
  } catch {}
  apply();
  listeners.forEach((fn) => fn());
}

/** The one-button toggle: switch to the opposite of what shows now; landing on what the system
 *  prefers anyway means "follow the system" again. */
export function nextTheme(c: ThemeChoice): ThemeChoice {
  const systemDark = media.matches;
  const effectiveDark = c === 'auto' ? systemDark : c === 'dark';
  const next: ThemeChoice = effectiveDark ? 'light' : 'dark';
  return (next === 'dark') === systemDark ? 'auto' : next;
}

export function useTheme(): { choice: ThemeChoice; effective: 'light' | 'dark' } {
  const c = useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => choice,
  );
  const systemDark = useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => media.matches,
  );
  return { choice: c, effective: c === 'auto' ? (systemDark ? 'dark' : 'light') : c };
}
