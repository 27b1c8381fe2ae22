// The relay store's statements, one text for both engines (sqlite-chat-store.ts on its own file,
// postgres-chat-store.ts beside the node's state): only the tables' names differ, since in the
// node's PostgreSQL database they share a schema with its own `members`.

/** Each table's name in one database. */
export interface ChatTableNames {
  envelopes: string;
  profiles: string;
  rooms: string;
  members: string;
  invitations: string;
}

export function chatStatements(t: ChatTableNames) {
  return {
    envById: `SELECT seq, sender, body FROM ${t.envelopes} WHERE id = ?`,
    insertEnv: `INSERT INTO ${t.envelopes} (id, kind, sender, recipient, ts, stored, body) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    maxSeq: `SELECT COALESCE(MAX(seq), 0) AS s FROM ${t.envelopes}`,
    // Retention (docs/retention.md): envelopes stored before the cut-off go, except each sender's
    // newest sender key to each recipient, which later group messages may still be sealed with.
    pruneEnvelopes: `DELETE FROM ${t.envelopes} WHERE stored < ? AND NOT (kind = 'skey' AND seq = (
      SELECT MAX(k.seq) FROM ${t.envelopes} k WHERE k.kind = 'skey' AND k.sender = ${t.envelopes}.sender AND k.recipient = ${t.envelopes}.recipient))`,
    // Then the profiles of those not signed in (a client signs a new one each time) since the same
    // cut-off that are in no room, invited to none and named by no envelope left: anyone who still
    // needs one (to seal a message, to check a member) finds it; the rest grew with every identity
    // that ever signed in (docs/retention.md).
    pruneProfiles: `DELETE FROM ${t.profiles} WHERE ts < ?
      AND NOT EXISTS (SELECT 1 FROM ${t.members} m WHERE m.did = ${t.profiles}.did)
      AND NOT EXISTS (SELECT 1 FROM ${t.invitations} i WHERE i.invitee = ${t.profiles}.did)
      AND NOT EXISTS (SELECT 1 FROM ${t.envelopes} e WHERE e.sender = ${t.profiles}.did)
      AND NOT EXISTS (SELECT 1 FROM ${t.envelopes} e WHERE e.recipient = ${t.profiles}.did)`,
    sync: `SELECT seq, body FROM ${t.envelopes} e WHERE e.seq > ? AND (
      (e.kind IN ('dm', 'skey') AND (e.recipient = ? OR e.sender = ?))
      OR (e.kind = 'group' AND EXISTS (SELECT 1 FROM ${t.members} m WHERE m.room = e.recipient AND m.did = ? AND e.seq > m.joined_seq)))
    ORDER BY e.seq LIMIT ?`,
    profile: `SELECT body FROM ${t.profiles} WHERE did = ?`,
    putProfile: `INSERT INTO ${t.profiles} (did, ts, body) VALUES (?, ?, ?) ON CONFLICT (did) DO UPDATE SET ts = excluded.ts, body = excluded.body WHERE excluded.ts > ${t.profiles}.ts`,
    room: `SELECT id, kind, name, charter FROM ${t.rooms} WHERE id = ?`,
    insertRoom: `INSERT INTO ${t.rooms} (id, kind, name, charter, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    members: `SELECT did, role, invitation FROM ${t.members} WHERE room = ? ORDER BY joined`,
    memberCount: `SELECT COUNT(*) AS n FROM ${t.members} WHERE room = ?`,
    isMember: `SELECT 1 AS x FROM ${t.members} WHERE room = ? AND did = ?`,
    insertMember: `INSERT INTO ${t.members} (room, did, role, invitation, joined_seq, joined) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (room, did) DO NOTHING`,
    deleteMember: `DELETE FROM ${t.members} WHERE room = ? AND did = ?`,
    roomsOf: `SELECT room FROM ${t.members} WHERE did = ?`,
    directory: `SELECT r.id, r.name, COUNT(m.did) AS n FROM ${t.rooms} r LEFT JOIN ${t.members} m ON m.room = r.id
    WHERE r.kind IN ('public', 'torrent') GROUP BY r.id, r.name, r.created ORDER BY n DESC, r.created DESC LIMIT 100`,
    putInvitation: `INSERT INTO ${t.invitations} (room, invitee, body) VALUES (?, ?, ?) ON CONFLICT (room, invitee) DO UPDATE SET body = excluded.body`,
    invitation: `SELECT body FROM ${t.invitations} WHERE room = ? AND invitee = ?`,
    invitationsOf: `SELECT i.body AS inv, r.charter AS charter FROM ${t.invitations} i JOIN ${t.rooms} r ON r.id = i.room
    WHERE i.invitee = ? AND NOT EXISTS (SELECT 1 FROM ${t.members} m WHERE m.room = i.room AND m.did = i.invitee)`,
    deleteInvitation: `DELETE FROM ${t.invitations} WHERE room = ? AND invitee = ?`,
    dmPartners: `SELECT CASE WHEN sender = ? THEN recipient ELSE sender END AS other, MAX(seq) AS last FROM ${t.envelopes}
    WHERE kind = 'dm' AND (sender = ? OR recipient = ?) GROUP BY other ORDER BY last DESC LIMIT ?`,
    groupPeers: `SELECT m2.did AS other, MAX(m2.joined) AS last FROM ${t.members} m1 JOIN ${t.members} m2 ON m2.room = m1.room JOIN ${t.rooms} r ON r.id = m1.room
    WHERE m1.did = ? AND m2.did != ? AND r.kind NOT IN ('public', 'torrent') GROUP BY m2.did ORDER BY last DESC LIMIT ?`,
  } as const;
}
