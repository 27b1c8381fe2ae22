// App shell: brand, navigation (top bar on wide screens, bottom tab bar on phones), theme toggle.
import type { ComponentType, SVGProps } from 'react';
import { href, useRoute, type View } from './router.ts';
import { useLive } from './live.ts';
import { nextTheme, setTheme, useTheme } from './theme.ts';
import { useBrowserPeer } from './browser-peer.ts';
import { IconAuto, IconChat, IconList, IconMoon, IconNetwork, IconPlus, IconSettings, IconShare, IconSun } from './components/icons.tsx';
import { TorrentsView } from './views/TorrentsView.tsx';
import { ShareView } from './views/ShareView.tsx';
import { AddView } from './views/AddView.tsx';
import { ChatView } from './views/ChatView.tsx';
import { NetworkView } from './views/NetworkView.tsx';
import { SettingsView } from './views/SettingsView.tsx';

const NAV: { view: View; label: string; Icon: ComponentType<SVGProps<SVGSVGElement>>; testId?: string }[] = [
  { view: 'torrents', label: 'Torrents', Icon: IconList },
  { view: 'share', label: 'Share', Icon: IconShare },
  { view: 'add', label: 'Add', Icon: IconPlus },
  { view: 'chat', label: 'Chat', Icon: IconChat, testId: 'chat-nav' },
  { view: 'network', label: 'Network', Icon: IconNetwork },
  { view: 'settings', label: 'Settings', Icon: IconSettings },
];

export function App() {
  const route = useRoute();
  const live = useLive();
  const peer = useBrowserPeer();
  const { choice, effective } = useTheme();
  const ThemeIcon = choice === 'auto' ? IconAuto : effective === 'dark' ? IconMoon : IconSun;
  const active = live.torrents.filter((t) => t.state === 'downloading' || t.state === 'metadata').length + peer.torrents.filter((t) => t.progress < 1).length;

  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href={href('torrents')} aria-label="Cascade home">
          <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
            <path d="M6 6h20l-6 8h6L10 28l4-10H6z" fill="var(--accent)" />
          </svg>
          <span>Cascade</span>
        </a>
        <nav className="nav" aria-label="Main">
          {NAV.map(({ view, label, Icon, testId }) => (
            <a key={view} href={href(view)} className={`nav-link${route.view === view ? ' active' : ''}`} aria-current={route.view === view ? 'page' : undefined} data-testid={testId ?? `nav-${view}`}>
              <Icon />
              <span className="nav-label">{label}</span>
              {view === 'torrents' && active > 0 && <span className="nav-count">{active}</span>}
            </a>
          ))}
        </nav>
        <div className="topbar-right">
          <span className={`conn ${live.connected ? 'conn-ok' : 'conn-bad'}`} title={live.connected ? 'Connected to the node' : 'Not connected to the node'} data-testid="conn-status">
            <span className="dot" />
            <span className="conn-label">{live.connected ? 'Live' : 'Offline'}</span>
          </span>
          <button type="button" className="icon-btn" onClick={() => setTheme(nextTheme(choice))} title={`Theme: ${choice === 'auto' ? `system (${effective})` : choice}`} aria-label="Toggle dark mode" data-testid="theme-toggle">
            <ThemeIcon />
          </button>
        </div>
      </header>
      <main className={`main main-${route.view}`}>
        {route.view === 'torrents' && <TorrentsView />}
        {route.view === 'share' && <ShareView />}
        {route.view === 'add' && <AddView />}
        {route.view === 'chat' && <ChatView />}
        {route.view === 'network' && <NetworkView />}
        {route.view === 'settings' && <SettingsView />}
      </main>
    </div>
  );
}
