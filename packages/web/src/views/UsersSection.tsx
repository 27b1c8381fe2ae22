// Settings → Users (owner, admins and members see it): who may see and manage the node's torrents,
// in which role. Admins add and remove members and viewers; the owner also makes admins, hands
// ownership over and rotates the API token. Anyone can be added by their did:key or Ethereum address,
// which a visitor's notice shows them to copy.
import { useCallback, useEffect, useState } from 'react';
import { authApi, type User } from '../api/auth-api.ts';
import { isAdmin, refreshAuth, useAuth, whoLabel } from '../state/auth.ts';

type Given = 'admin' | 'member' | 'viewer';
const ROLE_TEXT: Record<Given, string> = { admin: 'Admin', member: 'Member', viewer: 'Viewer (read-only)' };

const DID = /^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function when(v: User['addedAt'] | string | null | undefined): string {
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
  const [role, setRole] = useState<Given>('member');
  const [busy, setBusy] = useState(false);
  const [token, setToken] = useState<string>();
  const admin = isAdmin(auth);
  const owner = auth.status === 'open' || auth.role === 'owner';
  // Which roles this user may give: admins give member and viewer, the owner also admin.
  const giveable: Given[] = owner ? ['member', 'viewer', 'admin'] : ['member', 'viewer'];

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
    if (await act(() => authApi.addUser(id, role))) setInput('');
  };

  const transfer = async (id: string) => {
    if (!window.confirm(`Make ${id} the owner of this node? You stay on as an admin.`)) return;
    if (await act(() => authApi.transferOwner(id))) await refreshAuth();
  };

  const rotate = async () => {
    if (!window.confirm('Replace the API token? Scripts and tools using the old one stop working at once.')) return;
    setBusy(true);
    setError(undefined);
    try {
      setToken(await authApi.rotateToken());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  /** May this user change or remove `u`? Admins manage members and viewers; the owner also admins. */
  const manages = (u: User) => u.role !== 'owner' && (owner || (admin && u.role !== 'admin'));

  const mine = (id: string) => id === auth.did || (!!auth.address && id.toLowerCase() === auth.address.toLowerCase());
  return (
    <div className="card" data-testid="users-section">
      <h2>Users</h2>
      <p className="muted small">
        Members use the node's torrents, viewers only see them, admins also manage members and viewers, and the owner everything. Everyone else who signs in is a visitor: in-browser torrents and chat only.
      </p>
      {!users && !error && <div className="muted">Loading…</div>}
      {users && (
        // Focusable: on a phone the table scrolls sideways, and keyboard users must reach it too.
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Users of this node">
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
                    {manages(u) ? (
                      <select
                        className="input input-small"
                        value={u.role}
                        disabled={busy}
                        onChange={(e) => void act(() => authApi.addUser(u.id, e.target.value as Given))}
                        aria-label={`Role of ${u.id}`}
                        data-testid="user-role"
                      >
                        {(giveable.includes(u.role as Given) ? giveable : [...giveable, u.role as Given]).map((r) => (
                          <option key={r} value={r}>
                            {ROLE_TEXT[r]}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <span className={`badge ${u.role === 'owner' ? 'badge-downloading' : 'badge-seeding'}`}>{u.role}</span>
                    )}
                  </td>
                  <td className="small nowrap">{when(u.addedAt)}</td>
                  <td className="r nowrap">
                    {owner && u.role !== 'owner' && (
                      <button type="button" className="btn btn-small" disabled={busy} onClick={() => void transfer(u.id)} data-testid="user-make-owner" aria-label={`Make ${u.id} the owner`}>
                        Make owner
                      </button>
                    )}{' '}
                    {manages(u) && (
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
      {admin && (
        <form
          className="user-add"
          onSubmit={(e) => {
            e.preventDefault();
            void add();
          }}
        >
          <input className="input mono" value={input} onChange={(e) => setInput(e.target.value)} placeholder="did:key:z… or 0x…" aria-label="did:key or Ethereum address to add" spellCheck={false} data-testid="user-add-input" />
          <select className="input" value={role} onChange={(e) => setRole(e.target.value as Given)} aria-label="Role to give" data-testid="user-add-role">
            {giveable.map((r) => (
              <option key={r} value={r}>
                {ROLE_TEXT[r]}
              </option>
            ))}
          </select>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="user-add">
            {role === 'member' ? 'Add member' : `Add ${role}`}
          </button>
        </form>
      )}
      {owner && (
        <div className="token-rotate">
          <button type="button" className="btn" disabled={busy} onClick={() => void rotate()} data-testid="token-rotate">
            Rotate API token
          </button>
          <span className="muted small">Scripts and tools use it (<code>cascade token</code>); the old one stops working at once.</span>
          {token && (
            <div className="small" data-testid="token-new">
              New token: <code className="mono">{token}</code>
            </div>
          )}
        </div>
      )}
      {error && (
        <div className="alert alert-error" data-testid="users-error">
          {error}
        </div>
      )}
    </div>
  );
}
