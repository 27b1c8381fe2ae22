// Settings → This browser: desktop notifications of completed and failed downloads. Turning it on
// asks the browser's permission; a refusal is explained (only the browser can undo it).
import { useState } from 'react';
import { notifyStatus, setNotify, type NotifyStatus } from '../page/notify.ts';

const WHY: Record<NotifyStatus, string> = {
  on: 'This browser shows a notification when a download on the node completes or fails.',
  off: 'Off. Turning it on asks this browser’s permission.',
  denied: 'This browser refuses notifications for this site: allow them in the site settings (the lock icon by the address), then turn this on.',
  unsupported: 'This browser cannot show notifications.',
};

export function NotificationsField() {
  const [status, setStatus] = useState<NotifyStatus>(notifyStatus);
  const [asking, setAsking] = useState(false);
  return (
    <div className="field">
      <span className="field-label">Notifications</span>
      <label className="check">
        <input
          type="checkbox"
          checked={status === 'on'}
          disabled={asking || status === 'unsupported'}
          onChange={async (e) => {
            setAsking(true);
            try {
              setStatus(await setNotify(e.target.checked));
            } finally {
              setAsking(false);
            }
          }}
          data-testid="settings-notifications"
        />
        Notify me when a download completes or fails
      </label>
      <div className="muted small" data-testid="settings-notifications-status" data-status={status}>
        {WHY[status]}
      </div>
    </div>
  );
}
