// First: a shared link (/share-target?…) becomes #/add?link=… before the router reads the address.
import { registerServiceWorker } from './page/pwa.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { tabRelay } from './browser/tab-relay.ts';
import './styles/styles.css';
import './styles/auth.css';
import './styles/panels.css';
import './styles/torrent-table.css';
import './styles/touch.css';

// A tab whose user chose to relay for others relays again after a reload.
tabRelay.resume();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// The app shell offline, installing, the share target (src/sw/service-worker.ts).
if (import.meta.env.PROD) registerServiceWorker();
