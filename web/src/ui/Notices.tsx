// Short status messages ("Grace joined", "Invite link copied") in a polite
// live region, so screen readers announce them too.

import type { JSX } from 'preact';
import type { Notice } from '../call';
import { useChanges } from './hooks';
import { T } from './Text';

interface Shown extends Notice {
  id: number;
}

/** Holds the visible notices; each disappears after a few seconds. */
export class Notices {
  list: Shown[] = [];
  private next = 1;
  private listeners = new Set<() => void>();

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  push = (n: Notice): void => {
    const id = this.next++;
    // At most three at once; the oldest goes first.
    this.list = [...this.list.slice(-2), { ...n, id }];
    this.changed();
    window.setTimeout(() => this.dismiss(id), 5000);
  };

  dismiss(id: number): void {
    this.list = this.list.filter((n) => n.id !== id);
    this.changed();
  }

  clear(): void {
    this.list = [];
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

export function NoticeArea(props: { notices: Notices }): JSX.Element {
  useChanges(props.notices.subscribe);
  return (
    <div class="notices" role="status" aria-live="polite">
      {props.notices.list.map((n) => (
        <p key={n.id} class="notice">
          <T k={n.key} params={n.params} />
        </p>
      ))}
    </div>
  );
}
