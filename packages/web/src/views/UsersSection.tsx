// Settings → Users (owner and members): who may see and manage the node's torrents. Anyone can be
// added by their did:key or Ethereum address, which a visitor's notice shows them to copy.
import { useCallback, useEffect, useState } from 'react';
import { authApi, type User } from '../auth-api.ts';
import { useAuth, whoLabel } from '../auth.ts';

const DID = /^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function when(v: User['addedAt']): string {
  if (v === null || v === undefined || v === '') return '—';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString();
}

function label(id: string): string {
  return id.startsWith('did:') ? whoLabel({ did: id, address: null }) : whoLabel({ did: null, address: id });
}

export function UsersSection() {
  const auth = useAuth();
  const [users, setUsers] = useState<User[]>();
  const [error, setError] = useState<string>();
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setUsers(await authApi.users());
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      await load();
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const add = async () => {
    const id = input.trim();
    if (!DID.test(id) && !ADDRESS.test(id)) {
      setError('Enter a did:key:z… or a 0x… Ethereum address (a visitor sees theirs on the Torrents page).');
      return;
    }
    if (await act(() => authApi.addUser(id))) setInput('');
  };

  const mine = (id: string) => id === auth.did || (!!auth.address && id.toLowerCase() === auth.address.toLowerCase());
  return (
    <div className="card" data-testid="users-section">
      <h2>Users</h2>
      <p className="muted small">The owner and these members see and manage the node's torrents. Everyone else who signs in is a visitor: in-browser torrents and chat only.</p>
      {!users && !error && <div className="muted">Loading…</div>}
      {users && (
        <div className="table-wrap">
          <table className="table users-table">
            <thead>
              <tr>
                <th>Who</th>
                <th>Role</th>
                <th>Added</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} data-testid="user-row" data-id={u.id} data-role={u.role}>
                  <td className="clip" title={u.id}>
                    <div className="mono">{label(u.id)}</div>
                    <div className="muted small">
                      {u.kind === 'address' ? 'Ethereum account' : 'did:key'}
                      {mine(u.id) ? ' · you' : ''}
                    </div>
                  </td>
                  <td>
                    <span className={`badge ${u.role === 'owner' ? 'badge-downloading' : 'badge-seeding'}`}>{u.role}</span>
                  </td>
                  <td className="small nowrap">{when(u.addedAt)}</td>
                  <td className="r">
                    {u.role !== 'owner' && (
                      <button type="button" className="btn btn-small" disabled={busy} onClick={() => void act(() => authApi.removeUser(u.id))} data-testid="user-remove" aria-label={`Remove ${u.id}`}>
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form
        className="user-add"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <input className="input mono" value={input} onChange={(e) => setInput(e.target.value)} placeholder="did:key:z… or 0x…" aria-label="did:key or Ethereum address to add as a member" spellCheck={false} data-testid="user-add-input" />
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="user-add">
          Add member
        </button>
      </form>
      {error && (
        <div className="alert alert-error" data-testid="users-error">
          {error}
        </div>
      )}
    </div>
  );
}
