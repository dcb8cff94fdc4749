// How a call ended, in words for the "you left" page: from the close of the
// signalling socket and the last error the server sent before it.

import type { Key } from './i18n';
import { CLOSE_ERROR, CLOSE_REMOVED } from './protocol';
import type { CloseInfo } from './signal';

/** Why a call ended, for the "you left" page. */
export interface Ending {
  kind: 'left' | 'error' | 'lost' | 'unreachable';
  /** Whether we had got into the meeting before it ended. */
  wasJoined?: boolean;
  /** A heading other than the default one of the kind. */
  title?: Key;
  /** A translated explanation, when we know one. */
  message?: Key;
  /** The server's own close reason, shown as it is. */
  reason?: string;
}

/** Server errors that end the call, with what the "you left" page says. */
export const FATAL_ENDINGS = {
  denied: { title: 'left.notJoined', message: 'left.denied' },
  removed: { title: 'left.removedTitle', message: 'left.removed' },
  ended: { title: 'left.endedTitle', message: 'left.ended' },
  e2ee_required: { title: 'left.e2eeTitle', message: 'left.e2eeRequired' },
  lobby_timeout: { title: 'left.notJoined', message: 'left.lobbyTimeout' },
} as const satisfies Record<string, { title: Key; message: Key }>;

/** Maps the server's close reason (or error code) to a translated message. */
export function endingFromClose(info: CloseInfo, lastError: string | null, endedByUs = false): Ending {
  if (info.neverOpened) return { kind: 'unreachable', message: 'left.unreachable' };
  const fatal = lastError !== null && lastError in FATAL_ENDINGS ? FATAL_ENDINGS[lastError as keyof typeof FATAL_ENDINGS] : null;
  if (fatal || info.code === CLOSE_REMOVED) {
    if (endedByUs && (lastError === 'ended' || !fatal)) return { kind: 'left', title: 'left.endedTitle', message: 'left.youEnded' };
    const f = fatal ?? { title: 'left.disconnected', message: 'left.removedOrEnded' };
    return { kind: 'error', title: f.title, message: f.message };
  }
  if (info.byUs && (info.code === 1000 || info.code === 1005)) return { kind: 'left' };
  if (info.code === CLOSE_ERROR || lastError) {
    const text = `${info.reason} ${lastError ?? ''}`;
    const code = (['room_full', 'server_full', 'too_many_connections', 'too_many_meetings', 'bad_room', 'bad_name', 'internal'] as const).find((c) =>
      text.includes(c),
    );
    return { kind: 'error', message: code ? `error.${code}` : 'error.other', reason: info.reason || undefined };
  }
  if (info.byUs) return { kind: 'left' };
  return { kind: 'lost', message: 'left.lost', reason: info.reason || undefined };
}
