// A small on/off button of the detail panel (force start, the order of the pieces): pressed when
// on, one PATCH per click.
export function ToggleButton(p: { on: boolean; disabled: boolean; title: string; labelOn: string; labelOff: string; testId: string; onToggle: () => void }) {
  return (
    <button type="button" className={`btn btn-small${p.on ? ' btn-on' : ''}`} aria-pressed={p.on} disabled={p.disabled} title={p.title} onClick={p.onToggle} data-testid={p.testId}>
      {p.on ? p.labelOn : p.labelOff}
    </button>
  );
}
