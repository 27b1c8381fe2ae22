import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { tabRelay } from './tab-relay.ts';
import './styles.css';
import './auth.css';
import './panels.css';
import './torrent-table.css';

// A tab whose user chose to relay for others relays again after a reload.
tabRelay.resume();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
