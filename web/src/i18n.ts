// Every string a person sees goes through t(). English is the reference: its
// keys define the type, so a German text missing a key does not compile (and
// the unit test checks the placeholders match too).

import { de } from './i18n-de';

const en = {
  'app.name': 'Plausch',
  'app.language': 'Language',
  'app.home': 'Plausch home page',

  'start.title': 'Video meetings that stay yours',
  'start.intro': 'Start a meeting, send the link, talk. No account, no tracking: everything runs on this server and nowhere else.',
  'start.meetingName': 'Meeting name',
  'start.meetingNameHint': 'Anyone with the link can join. A long random name is hard to guess.',
  'start.newName': 'Suggest another name',
  'start.newNameFailed': 'No name suggestion from the server right now. You can type your own.',
  'start.submit': 'Start meeting',
  'start.point1': 'No account, no app to install',
  'start.point2': 'Runs on your own server',
  'start.point3': 'Nothing is loaded from anywhere else',
  'start.privacy': 'What this server knows about you',

  'meetingName.empty': 'Please enter a meeting name.',
  'meetingName.short': 'A meeting name needs at least 3 characters.',
  'meetingName.long': 'A meeting name can have at most 64 characters.',
  'meetingName.start': 'A meeting name must start with a letter or a digit.',
  'meetingName.chars': 'Use only letters, digits, “-” and “_” (no spaces or other signs).',
  'meetingName.reserved': '“{name}” is reserved. Please choose another name.',
  'meetingName.marks': 'A meeting name can have at most 4 accents or other combining marks on one letter.',
  'meetingName.mixed': 'A meeting name cannot mix Latin, Cyrillic and Greek letters, which look alike.',

  'invalid.title': 'This meeting link does not work',
  'invalid.text': '“{name}” is not a meeting name. {reason}',
  'invalid.back': 'Back to start',

  'prejoin.title': 'Ready to join?',
  'prejoin.meeting': 'Meeting “{name}”',
  'prejoin.yourName': 'Your name',
  'prejoin.yourNameHint': 'Others see this name. It is remembered in this browser only.',
  'prejoin.join': 'Join meeting',
  'prejoin.joining': 'Joining…',
  'prejoin.cameraOff': 'Your camera is off',
  'prejoin.starting': 'Starting camera…',
  'prejoin.preview': 'Camera preview',
  'prejoin.devices': 'Devices',

  'displayName.empty': 'Please enter your name.',
  'displayName.long': 'A name can have at most 64 characters.',
  'displayName.control': 'A name cannot contain invisible or control characters (such as zero-width spaces or direction marks).',
  'displayName.marks': 'A name cannot start with an accent or have more than 4 on one letter.',
  'displayName.invisible': 'A name needs at least one visible letter, digit or sign.',

  'device.camera': 'Camera',
  'device.microphone': 'Microphone',
  'device.speaker': 'Speaker',
  'device.micLevel': 'Microphone level',
  'device.default': 'Default',
  'device.none': 'None found',
  'device.unnamed': '{kind} {n}',
  'device.turnOffMic': 'Turn off microphone',
  'device.turnOnMic': 'Turn on microphone',
  'device.turnOffCam': 'Turn off camera',
  'device.turnOnCam': 'Turn on camera',
  'device.denied': 'Camera and microphone are blocked for this site. You can still join, or allow them in the browser’s site settings and reload.',
  'device.notFound': 'No camera or microphone was found. You can still join to watch and listen.',
  'device.cameraFailed': 'The camera could not be started.',
  'device.micFailed': 'The microphone could not be started.',
  'device.failed': 'Camera and microphone could not be started ({error}). You can still join.',
  'device.insecure': 'Camera and microphone need a secure connection (https). You can still join to watch and listen.',

  'meeting.you': '{name} (you)',
  'meeting.screenOf': 'Screen of {name}',
  'meeting.micMuted': 'Microphone muted',
  'meeting.mute': 'Mute microphone',
  'meeting.unmute': 'Unmute microphone',
  'meeting.stopCamera': 'Stop camera',
  'meeting.startCamera': 'Start camera',
  'meeting.share': 'Share screen',
  'meeting.stopShare': 'Stop screen sharing',
  'meeting.invite': 'Copy invite link',
  'meeting.leave': 'Leave meeting',
  'meeting.leaveShort': 'Leave',
  'meeting.settings': 'Settings',
  'meeting.controls': 'Meeting controls',
  'meeting.participants': 'Participants',
  'meeting.peopleOne': '1 person',
  'meeting.peopleMany': '{count} people',
  'meeting.connecting': 'Connecting…',
  'meeting.alone': 'You are the only one here',
  'meeting.aloneHint': 'Copy the invite link and send it to the people you want to talk to.',
  'meeting.youShare': 'You are sharing your screen',
  'meeting.joined': '{name} joined',
  'meeting.left': '{name} left',
  'meeting.sharing': '{name} is sharing their screen',
  'meeting.inviteCopied': 'Invite link copied',
  'meeting.inviteFailed': 'Could not copy. The invite link is {url}',
  'meeting.shareFailed': 'Screen sharing did not start.',
  'meeting.reconnecting': 'Reconnecting…',

  'reconnect.banner': 'Reconnecting…',
  'reconnect.offline': 'No network connection.',
  'reconnect.draining': 'The server is restarting; you will be reconnected.',
  'reconnect.failedTitle': 'Could not reconnect',
  'reconnect.failedText': 'The connection to the server has been lost for a while. Check your network and try again.',
  'reconnect.rejoin': 'Rejoin',
  'reconnect.leave': 'Leave',

  'settings.title': 'Settings',
  'settings.close': 'Close',

  'layout.speakerView': 'Speaker view',
  'layout.tileView': 'Tile view',
  'layout.pages': 'Pages',
  'layout.previous': 'Previous page',
  'layout.next': 'Next page',
  'layout.page': 'Page {page} of {count}',
  'layout.filmstrip': 'Everyone else',
  'layout.stage': 'Shown large',

  'settings.maxVideos': 'Maximum videos',
  'settings.maxVideosAuto': 'Auto (all you see)',
  'settings.maxVideosHint': 'Fewer videos need less bandwidth. Those who spoke last are shown first; the others show their initials.',

  'quality.label': 'Connection: {level}',
  'quality.good': 'good',
  'quality.fair': 'fair',
  'quality.poor': 'poor',
  'quality.unknown': 'not known yet',
  'quality.yours': 'Your connection',
  'quality.of': 'Connection of {name}',
  'quality.send': 'Sending',
  'quality.receive': 'Receiving',
  'quality.loss': 'Packet loss',
  'quality.rtt': 'Round trip',
  'quality.none': '–',

  'left.title': 'You left the meeting',
  'left.disconnected': 'You were disconnected',
  'left.notJoined': 'You could not join the meeting',
  'left.rejoin': 'Rejoin',
  'left.back': 'Back to start',
  'left.reason': 'Reason given by the server: {reason}',
  'left.lost': 'The connection to the server was lost.',
  'left.unreachable': 'The server could not be reached.',

  'error.room_full': 'This meeting is full.',
  'error.server_full': 'The server is busy right now. Please try again later.',
  'error.bad_room': 'This meeting name is not valid.',
  'error.bad_name': 'The server did not accept your name.',
  'error.internal': 'Something went wrong on the server.',
  'error.other': 'The server ended the connection.',

  'error.forbidden': 'Only moderators can do that.',
  'error.not_found': 'That person is no longer in the meeting.',
  'error.rate_limited': 'Too many messages at once. Please wait a moment.',
  'error.too_many_connections': 'Too many connections to this server come from your network. Please try again later.',
  'error.too_many_meetings': 'Too many meetings were started from your network. Join a running one, or try again later.',

  'left.denied': 'The host did not let you in.',
  'left.removedTitle': 'You were removed',
  'left.removed': 'A moderator removed you from the meeting.',
  'left.endedTitle': 'The meeting has ended',
  'left.ended': 'The meeting was ended by a moderator.',
  'left.youEnded': 'You ended the meeting for everyone.',
  'left.lobbyTimeout': 'Nobody let you in in time. You can knock again.',
  'left.removedOrEnded': 'You were removed, turned away, or the meeting was ended.',
  'left.e2eeTitle': 'End-to-end encryption required',
  'left.e2eeRequired': 'This meeting requires end-to-end encryption, which this browser does not support. Try a current version of Chrome, Edge, Firefox or Safari.',

  'password.title': 'This meeting has a password',
  'password.text': 'Enter the password of “{name}” to join.',
  'password.label': 'Password',
  'password.wrong': 'Wrong password. Please try again.',
  'password.tooMany': 'Too many attempts, try again in {seconds} s',
  'password.again': 'You can try again now.',
  'password.checking': 'Checking…',
  'gate.leave': 'Leave',

  'lobby.title': 'Waiting for the host to let you in',
  'lobby.text': 'The moderators of “{name}” see that you are waiting. You join as soon as one of them lets you in.',
  'lobby.admitted': 'You were let in',
  'lobby.knockNotice': '{name} is waiting in the lobby',
  'lobby.knockNoticePassword': '{name} is waiting in the lobby, without a checked password',
  'lobby.textPassword': 'There were too many wrong password attempts from your network, so your password was not checked. The moderators of “{name}” see that you are waiting, and can let you in.',
  'lobby.textRemoved': 'Someone from your network was removed from “{name}” a short while ago, so newcomers from it wait here. The moderators see that you are waiting, and can let you in.',
  'lobby.knockCount': '{count} waiting',

  'panel.close': 'Close',

  'chat.open': 'Open chat',
  'chat.close': 'Close chat',
  'chat.unread': '{count} unread',
  'chat.title': 'Chat',
  'chat.ephemeral': 'End-to-end encrypted. Messages are kept only in this tab: they are gone when you leave or reload.',
  'chat.empty': 'No messages yet.',
  'chat.message': 'Message',
  'chat.send': 'Send',
  'chat.to': 'To',
  'chat.everyone': 'Everyone',
  'chat.privateTo': 'Private to {name}',
  'chat.privateFromYou': 'Private, to you',
  'chat.you': 'You',
  'chat.someone': 'Someone who left',
  'chat.left': '{name} (left)',
  'chat.couldNotDecrypt': 'Could not decrypt this message.',
  'chat.waitingForKey': 'Waiting for the meeting key to decrypt this message.',
  'chat.noKey': 'Waiting for the meeting key: messages to everyone can be sent once it arrives. Private messages work already.',
  'chat.tooLong': 'This message is too long to send.',
  'chat.notConnected': 'Not connected right now. Your message stays here: send it once the connection is back.',
  'chat.recipientLeft': '{name} has left the meeting. Choose another recipient.',
  'chat.newMessage': 'New message from {name}',
  'chat.newPrivate': 'New private message from {name}',
  'chat.hint': 'Enter sends, Shift+Enter starts a new line.',

  'people.toggle': 'Participants',
  'people.title': 'Participants',
  'people.moderator': 'Moderator',
  'people.camOff': 'Camera off',
  'people.code': 'Compare this code with {name}:',
  'people.codeHint': 'If you both see the same symbols, nobody, not even the server, has swapped your keys.',
  'people.noCode': 'No verification code: {name} sent no public key.',
  'people.noKey': 'Waiting for the meeting key',
  'people.verify': 'Mark as verified',
  'people.unverify': 'Remove the verified mark',
  'people.verified': 'Verified',
  'people.verifiedHint': 'You compared the code with {name}. The mark is kept only until you leave.',
  'people.knock': '{name} is waiting',
  'people.knockPassword': 'Password not checked: too many wrong attempts from their network',
  'people.knockRemoved': 'From the network of someone removed a short while ago',
  'people.admit': 'Admit',
  'people.deny': 'Deny',
  'people.lobby': 'Waiting in the lobby',

  'mod.mute': 'Mute',
  'mod.stopCamera': 'Stop camera',
  'mod.remove': 'Remove',
  'mod.grant': 'Make moderator',
  'mod.muteAll': 'Mute everyone',
  'mod.end': 'End meeting for all',
  'mod.endTitle': 'End the meeting for everyone?',
  'mod.endText': 'Everyone, you included, leaves the meeting at once.',
  'mod.cancel': 'Cancel',
  'mod.settings': 'Meeting settings',
  'mod.password': 'Meeting password',
  'mod.passwordHint': 'Newcomers must enter it. The server keeps only a salted hash of it, in memory, while the meeting runs.',
  'mod.setPassword': 'Set password',
  'mod.changePassword': 'Change password',
  'mod.removePassword': 'Remove password',
  'mod.passwordOn': 'This meeting has a password.',
  'mod.passwordOff': 'This meeting has no password.',
  'mod.includePassword': 'Include the password in the invite link',
  'mod.lobby': 'Lobby',
  'mod.lobbyHint': 'Newcomers wait until a moderator lets them in.',
  'mod.e2ee': 'Require end-to-end encryption',
  'mod.e2eeHint': 'Browsers that cannot encrypt audio and video end to end are removed and cannot join.',
  'mod.e2eeUnavailable': 'This browser cannot encrypt audio and video end to end, so it cannot require it.',
  'mod.p2p': 'Direct connection for two',
  'mod.p2pHint': 'While only two are in the meeting, their audio and video go directly between their browsers, not through the server.',

  'e2ee.notEncrypted': 'Not end-to-end encrypted',
  'e2ee.cannotDecrypt': 'Cannot decrypt',
  'e2ee.cannotDecryptText': 'The audio and video of {name} do not decrypt with the keys here.',
  'e2ee.unsupported': 'This browser cannot decrypt the end-to-end encrypted audio and video of {name}.',
  'e2ee.exchanging': 'Exchanging keys…',
  'e2ee.noSupport': 'This browser cannot encrypt audio and video end to end. The others will see that, and a meeting that requires it will not let you in.',
  'error.e2ee_required': 'Only a browser that encrypts audio and video end to end can require it.',

  'moderation.mutedYou': 'A moderator muted your microphone',
  'moderation.stoppedYourCamera': 'A moderator stopped your camera',
  'moderation.nowModerator': 'You are now a moderator',

  'crypto.button': 'Encryption: what is protected',
  'crypto.badgeOn': 'Chat end-to-end encrypted',
  'crypto.badgeWaiting': 'Waiting for the meeting key',
  'crypto.title': 'Encryption in this meeting',
  'crypto.chatOn': 'Chat: end-to-end encrypted. Only people with the meeting key can read it.',
  'crypto.chatWaiting': 'Chat: waiting for the meeting key. Messages to everyone cannot be read or sent until it arrives.',
  'crypto.private': 'Private messages: end-to-end encrypted between the two of you.',
  'crypto.badgeAll': 'End-to-end encrypted',
  'crypto.badgeExchanging': 'Exchanging keys…',
  'crypto.badgePartial': 'Not all end-to-end encrypted',
  'crypto.badgeFailing': 'Cannot decrypt everything',
  'crypto.mediaBadgeOn': 'Audio and video end-to-end encrypted',
  'crypto.mediaBadgeExchanging': 'Audio and video: exchanging keys',
  'crypto.mediaBadgeOff': 'Audio and video not end-to-end encrypted for everyone',
  'crypto.mediaOn': 'Audio and video: end-to-end encrypted. Only the people in this meeting can see and hear them.',
  'crypto.mediaExchanging': 'Audio and video: exchanging end-to-end encryption keys with {names}. Until the keys are there, you cannot see or hear each other.',
  'crypto.mediaPlain': 'Audio and video of {names}: not end-to-end encrypted, their browser cannot do it. What they send through the server, the server could see and hear.',
  'crypto.mediaSelfOff': 'Audio and video: not end-to-end encrypted, this browser cannot do it. What you send through the server, the server could see and hear. You cannot see or hear those who encrypt end to end.',
  'crypto.mediaFailing': 'Cannot decrypt the audio and video of {names}: the keys do not match. Nothing that fails to decrypt is played.',
  'crypto.pathDirect': 'Path: a direct connection between the two of you.',
  'crypto.pathServer': 'Path: through the server.',
  'crypto.verify': 'To be sure nobody swapped keys, compare the verification codes in the participant list.',
  'crypto.keyObtained': 'The meeting key arrived: chat is end-to-end encrypted.',

  'privacy.title': 'What this server knows about you',
  'privacy.intro': 'Plausch runs entirely on this server. Nothing is loaded from anywhere else, and your browser connects only to this server (or to a relay server, if its operator set one up).',
  'privacy.seesTitle': 'What the server sees',
  'privacy.sees1': 'The meeting name, while the meeting runs.',
  'privacy.sees2': 'The names of the people in a meeting, while they are in it.',
  'privacy.sees3': 'Your IP address, because your browser connects to the server. It is needed for the connection and is never logged.',
  'privacy.sees4': 'That audio, video and shared screens pass through it, and how much, but not what they show or say: your browser encrypts them end to end. When only two are in a meeting, they go directly between the two browsers instead, so each of the two learns the other’s IP address; a moderator can switch direct connections off. A browser that cannot encrypt end to end is shown to everyone as such; what it sends, the server could see and hear.',
  'privacy.sees5': 'The meeting password, if there is one, to check it. The server keeps only a salted hash of it, in memory, while the meeting runs.',
  'privacy.sees6': 'That a chat message is sent, by whom, to whom and how long it is, but not what it says.',
  'privacy.neverTitle': 'What the server never sees',
  'privacy.never1': 'What chat messages say, to everyone or private: your browser encrypts them end to end before they leave it.',
  'privacy.never2': 'The meeting key. It is in the invite link after “#”, a part that browsers never send to a server.',
  'privacy.never3': 'What you say and show: the keys of the audio and video go from browser to browser, encrypted, never to the server.',
  'privacy.storesTitle': 'What the server stores',
  'privacy.stores1': 'Nothing. There is no database and there are no accounts.',
  'privacy.stores2': 'No logs of names, IP addresses or chat. Where a meeting appears in the server’s logs, it is only as a short hash of its name.',
  'privacy.stores3': 'A meeting (who is in it, its settings) lives only in the server’s memory and is gone when the last person leaves.',
  'privacy.browserTitle': 'What this browser stores',
  'privacy.browser1': 'In this browser’s local storage: your name, your language and your choice of camera, microphone and speaker. Nothing else.',
  'privacy.browser2': 'Chat messages and the meeting key are kept only in the open tab, in memory, and are gone when you leave or reload.',
  'privacy.browser3': 'Like every address you open, invite links (with their meeting key) stay in your browser’s history until you delete it.',
  'privacy.browser4': 'Like any website, the browser may keep a copy of this app’s own files in its cache.',
  'privacy.deleteTitle': 'How to delete it',
  'privacy.delete': 'Press the button below, or clear this site’s data in your browser’s settings. Clear your history to remove meeting links.',
  'privacy.forget': 'Delete what Plausch stored in this browser',
  'privacy.forgotten': 'Deleted. Plausch keeps nothing in this browser now.',
} as const;

export type Key = keyof typeof en;
export type Lang = 'en' | 'de';
export type Params = Record<string, string | number>;


export const MESSAGES: Record<Lang, Record<Key, string>> = { en, de };
export const LANGS: readonly Lang[] = ['en', 'de'];
/** Each language's own name, shown in the switch whatever language is active. */
export const LANG_NAMES: Record<Lang, string> = { en: 'English', de: 'Deutsch' };

let current: Lang = 'en';
const listeners = new Set<(lang: Lang) => void>();

/** Picks the stored choice, else the first supported browser language, else English. */
export function detectLang(stored: string | null, preferred: readonly string[]): Lang {
  if (stored === 'en' || stored === 'de') return stored;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'en' || base === 'de') return base;
  }
  return 'en';
}

export function getLang(): Lang {
  return current;
}

export function setLang(lang: Lang): void {
  if (lang === current) return;
  current = lang;
  for (const l of listeners) l(lang);
}

export function onLangChange(fn: (lang: Lang) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Translates key into the current language, filling {placeholders} from params. */
export function t(key: Key, params?: Params, lang: Lang = current): string {
  const text = MESSAGES[lang][key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name];
    return v === undefined ? whole : String(v);
  });
}

/** The placeholder names used in a text, for the completeness test. */
export function placeholders(text: string): string[] {
  return Array.from(text.matchAll(/\{(\w+)\}/g), (m) => m[1] ?? '').sort();
}
