// App shell: the sign-in and first-run screens until /api/auth/me says who this browser is, then
// brand, navigation (top bar on wide screens, bottom tab bar on phones), who is signed in, theme.
// Visitors get what runs in the browser (in-tab torrents, chat, public health); owner and members
// also the node's torrents.
import { useEffect, useState, type ComponentType, type SVGProps } from 'react';
import { href, useRoute, type View } from './state/router.ts';
import { useLive } from './state/live.ts';
import { nextTheme, setTheme, useTheme } from './page/theme.ts';
import { useBrowserPeer } from './browser/browser-peer.ts';
import { claimNode, isMember, signOut, useAuth, whoLabel, type AuthState } from './state/auth.ts';
import { IconAssistant, IconCoin, IconMarket, IconRss } from './components/icons.tsx';
import { IconAuto, IconChat, IconList, IconMoon, IconNetwork, IconPlus, IconSettings, IconShare, IconSignOut, IconSun } from './components/icons.tsx';
import { Boundary } from './components/Boundary.tsx';
import { ConnectionBanner } from './components/ConnectionBanner.tsx';
import { startNotifier } from './page/notify.ts';
import { AltSpeedToggle } from './components/AltSpeedToggle.tsx';
import { NavMore } from './components/NavMore.tsx';
import { TorrentsView } from './views/TorrentsView.tsx';
import { ShareView } from './views/ShareView.tsx';
import { AddView } from './views/AddView.tsx';
import { ChatView } from './views/ChatView.tsx';
import { NetworkView } from './views/NetworkView.tsx';
import { SettingsView } from './views/SettingsView.tsx';
import { RssView } from './views/RssView.tsx';
import { VisitorNotice } from './views/VisitorNotice.tsx';
import { AssistantView } from './views/AssistantView.tsx';
import { RewardsView } from './views/RewardsView.tsx';
import { MarketView } from './views/MarketView.tsx';
import { Brand, ClaimCodeField, FirstRunScreen, LoadingScreen, SignInScreen, UnreachableScreen } from './views/SignIn.tsx';

const NAV: { view: View; label: string; Icon: ComponentType<SVGProps<SVGSVGElement>>; testId?: string }[] = [
  { view: 'torrents', label: 'Torrents', Icon: IconList },
  { view: 'share', label: 'Share', Icon: IconShare },
  { view: 'add', label: 'Add', Icon: IconPlus },
  { view: 'rss', label: 'RSS', Icon: IconRss },
  { view: 'assistant', label: 'Assistant', Icon: IconAssistant },
  { view: 'chat', label: 'Chat', Icon: IconChat, testId: 'chat-nav' },
  { view: 'network', label: 'Network', Icon: IconNetwork },
  { view: 'rewards', label: 'Rewards', Icon: IconCoin },
  { view: 'market', label: 'Market', Icon: IconMarket },
  { view: 'settings', label: 'Settings', Icon: IconSettings },
];

/** Places only owner and members get (the node's routes behind them are theirs). */
const MEMBERS_ONLY = new Set<View>(['rss', 'assistant', 'rewards', 'market']);
/** The bottom tab bar of a touch phone keeps these; the others go behind More (NavMore.tsx). */
const PHONE_TABS = new Set<View>(['torrents', 'share', 'add', 'chat']);

export function App() {
  const auth = useAuth();
  if (auth.status === 'loading') return <LoadingScreen />;
  if (auth.status === 'unreachable') return <UnreachableScreen />;
  if (auth.status === 'ready' && !auth.signedIn) return auth.claimable ? <FirstRunScreen /> : <SignInScreen />;
  return <Shell auth={auth} />;
}

function Shell({ auth }: { auth: AuthState }) {
  const route = useRoute();
  const live = useLive();
  const peer = useBrowserPeer();
  const member = isMember(auth);
  // Desktop notifications of completed and failed downloads (opt-in in Settings).
  useEffect(() => (member ? startNotifier() : undefined), [member]);
  const { choice, effective } = useTheme();
  const ThemeIcon = choice === 'auto' ? IconAuto : effective === 'dark' ? IconMoon : IconSun;
  const places = NAV.filter((n) => member || !MEMBERS_ONLY.has(n.view));
  const active = live.torrents.filter((t) => t.state === 'downloading' || t.state === 'metadata').length + peer.torrents.filter((t) => t.progress < 1).length;

  return (
    <div className="app">
      {/* A button, not a #main link: the hash is the router's. */}
      <button type="button" className="skip-link" onClick={() => document.getElementById('main')?.focus()} data-testid="skip-to-content">
        Skip to content
      </button>
      <header className="topbar">
        <a className="brand-link" href={href('torrents')} aria-label="Cascade home">
          <Brand />
        </a>
        <nav className="nav" aria-label="Main">
          {places.map(({ view, label, Icon, testId }) => (
            <a key={view} href={href(view)} className={`nav-link${route.view === view ? ' active' : ''}${PHONE_TABS.has(view) ? '' : ' nav-secondary'}`} aria-current={route.view === view ? 'page' : undefined} title={label} data-testid={testId ?? `nav-${view}`}>
              <Icon />
              <span className="nav-label">{label}</span>
              {view === 'torrents' && active > 0 && <span className="nav-count">{active}</span>}
            </a>
          ))}
          <NavMore items={places.filter((p) => !PHONE_TABS.has(p.view))} current={route.view} />
        </nav>
        <div className="topbar-right">
          {member && (
            <span className={`conn ${live.connected ? 'conn-ok' : 'conn-bad'}`} title={live.connected ? 'Connected to the node' : 'Not connected to the node'} data-testid="conn-status">
              <span className="dot" />
              <span className="conn-label">{live.connected ? 'Live' : live.link === 'reconnecting' ? 'Reconnecting' : 'Offline'}</span>
            </span>
          )}
          {auth.signedIn && (
            <a className={`whoami role-${auth.role ?? 'none'}`} href={href('settings')} title={`${auth.did ?? ''}${auth.did && auth.address ? '\n' : ''}${auth.address ?? ''}`} data-testid="whoami">
              <span className="whoami-id mono">{whoLabel(auth)}</span>
              <span className="whoami-role">{auth.role ?? 'signed in'}</span>
            </a>
          )}
          {auth.signedIn && (
            <button type="button" className="btn btn-small btn-ghost sign-out" onClick={() => void signOut()} disabled={!!auth.busy} title="Sign out" aria-label="Sign out" data-testid="sign-out">
              <IconSignOut />
              <span className="sign-out-label">Sign out</span>
            </button>
          )}
          {member && <AltSpeedToggle owner={auth.status === 'open' || auth.role === 'owner'} />}
          <button type="button" className="icon-btn" onClick={() => setTheme(nextTheme(choice))} title={`Theme: ${choice === 'auto' ? `system (${effective})` : choice}`} aria-label="Toggle dark mode" data-testid="theme-toggle">
            <ThemeIcon />
          </button>
        </div>
      </header>
      {auth.signedIn && !member && auth.claimable && <ClaimBanner busy={auth.busy === 'claim'} />}
      {member && <ConnectionBanner />}
      {auth.error && (
        <div className="claim-banner banner-error" role="alert" data-testid="auth-error">
          {auth.error}
        </div>
      )}
      {/* Keyed by who and what role: a change starts every view afresh on the new live socket. */}
      <main id="main" tabIndex={-1} key={`${auth.did}|${auth.address}|${auth.role}|${member}`} className={`main main-${route.view}`}>
        <Boundary what={`The ${route.view} view`}>
          {route.view === 'torrents' && <TorrentsView />}
          {route.view === 'share' && <ShareView />}
          {route.view === 'add' && <AddView />}
          {route.view === 'chat' && <ChatView />}
          {route.view === 'network' && <NetworkView />}
          {route.view === 'settings' && <SettingsView />}
          {route.view === 'rss' && member && <RssView />}
          {route.view === 'assistant' && (member ? <AssistantView /> : <VisitorNotice />)}
          {route.view === 'rewards' && (member ? <RewardsView /> : <VisitorNotice />)}
          {route.view === 'market' && (member ? <MarketView /> : <VisitorNotice />)}
        </Boundary>
      </main>
    </div>
  );
}

/** A signed-in visitor on a node with no owner yet: the claim code makes them its owner. */
function ClaimBanner({ busy }: { busy: boolean }) {
  const [code, setCode] = useState('');
  return (
    <form
      className="claim-banner"
      data-testid="claim-banner"
      onSubmit={(e) => {
        e.preventDefault();
        void claimNode(code);
      }}
    >
      <span>This node has no owner yet.</span>
      <ClaimCodeField value={code} onChange={setCode} />
      <button type="submit" className="btn btn-small btn-primary" disabled={busy} data-testid="claim-node">
        {busy ? 'Claiming…' : 'Claim it'}
      </button>
    </form>
  );
}
