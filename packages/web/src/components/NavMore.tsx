// The phone's bottom tab bar has room for five 44 px touch targets, not nine: on a touch screen
// below 720 px (styles.css, "Touch") the places beyond the first four move behind a More button.
// The panel renders only while open, so each place keeps one nav-<view> link in the page (its
// entries here are nav-more-<view>).
import { useEffect, useId, useRef, useState, type ComponentType, type SVGProps } from 'react';
import { href, type View } from '../state/router.ts';

export interface NavItem {
  view: View;
  label: string;
  Icon: ComponentType<SVGProps<SVGSVGElement>>;
}

const IconMore = (p: SVGProps<SVGSVGElement>) => (
  <svg viewBox="0 0 24 24" width="18" height="18" fill="currentColor" aria-hidden="true" {...p}>
    <circle cx="5" cy="12" r="2" />
    <circle cx="12" cy="12" r="2" />
    <circle cx="19" cy="12" r="2" />
  </svg>
);

export function NavMore({ items, current }: { items: NavItem[]; current: View }) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const box = useRef<HTMLDivElement>(null);
  // A place chosen (here or anywhere) closes the panel.
  useEffect(() => setOpen(false), [current]);
  useEffect(() => {
    if (!open) return;
    const outside = (e: PointerEvent) => {
      if (!box.current?.contains(e.target as Node)) setOpen(false);
    };
    const escape = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('pointerdown', outside);
    document.addEventListener('keydown', escape);
    return () => {
      document.removeEventListener('pointerdown', outside);
      document.removeEventListener('keydown', escape);
    };
  }, [open]);
  if (items.length === 0) return null;
  const here = items.some((i) => i.view === current);
  return (
    <div className="nav-more" ref={box}>
      <button type="button" className={`nav-link nav-more-btn${here ? ' active' : ''}`} aria-expanded={open} aria-controls={panelId} onClick={() => setOpen((o) => !o)} data-testid="nav-more">
        <IconMore />
        <span className="nav-label">More</span>
      </button>
      {open && (
        <div className="nav-more-panel" id={panelId}>
          {items.map(({ view, label, Icon }) => (
            <a key={view} href={href(view)} className={`nav-more-link${view === current ? ' active' : ''}`} aria-current={view === current ? 'page' : undefined} onClick={() => setOpen(false)} data-testid={`nav-more-${view}`}>
              <Icon />
              <span>{label}</span>
            </a>
          ))}
        </div>
      )}
    </div>
  );
}
