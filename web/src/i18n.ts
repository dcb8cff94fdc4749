// Every string a person sees goes through t(). English is the reference: its
// keys define the type, so a German text missing a key does not compile (and
// the unit test checks the placeholders match too).

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

  'meetingName.empty': 'Please enter a meeting name.',
  'meetingName.short': 'A meeting name needs at least 3 characters.',
  'meetingName.long': 'A meeting name can have at most 64 characters.',
  'meetingName.start': 'A meeting name must start with a letter or a digit.',
  'meetingName.chars': 'Use only letters, digits, “-” and “_” (no spaces or other signs).',
  'meetingName.reserved': '“{name}” is reserved. Please choose another name.',

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
  'displayName.control': 'A name cannot contain control characters.',

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
  'meeting.mediaFailed': 'The media connection failed.',

  'settings.title': 'Settings',
  'settings.close': 'Close',

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
} as const;

export type Key = keyof typeof en;
export type Lang = 'en' | 'de';
export type Params = Record<string, string | number>;

const de: Record<Key, string> = {
  'app.name': 'Plausch',
  'app.language': 'Sprache',
  'app.home': 'Plausch-Startseite',

  'start.title': 'Videomeetings, die dir gehören',
  'start.intro': 'Meeting starten, Link verschicken, reden. Kein Konto, kein Tracking: alles läuft auf diesem Server und nirgendwo sonst.',
  'start.meetingName': 'Meeting-Name',
  'start.meetingNameHint': 'Wer den Link hat, kann teilnehmen. Ein langer Zufallsname ist schwer zu erraten.',
  'start.newName': 'Anderen Namen vorschlagen',
  'start.newNameFailed': 'Der Server schlägt gerade keinen Namen vor. Du kannst selbst einen eingeben.',
  'start.submit': 'Meeting starten',
  'start.point1': 'Kein Konto, keine App nötig',
  'start.point2': 'Läuft auf deinem eigenen Server',
  'start.point3': 'Nichts wird von anderswo geladen',

  'meetingName.empty': 'Bitte gib einen Meeting-Namen ein.',
  'meetingName.short': 'Ein Meeting-Name braucht mindestens 3 Zeichen.',
  'meetingName.long': 'Ein Meeting-Name darf höchstens 64 Zeichen haben.',
  'meetingName.start': 'Ein Meeting-Name muss mit einem Buchstaben oder einer Ziffer beginnen.',
  'meetingName.chars': 'Nur Buchstaben, Ziffern, „-“ und „_“ sind erlaubt (keine Leerzeichen oder anderen Zeichen).',
  'meetingName.reserved': '„{name}“ ist reserviert. Bitte wähle einen anderen Namen.',

  'invalid.title': 'Dieser Meeting-Link funktioniert nicht',
  'invalid.text': '„{name}“ ist kein Meeting-Name. {reason}',
  'invalid.back': 'Zurück zum Start',

  'prejoin.title': 'Bereit?',
  'prejoin.meeting': 'Meeting „{name}“',
  'prejoin.yourName': 'Dein Name',
  'prejoin.yourNameHint': 'Andere sehen diesen Namen. Er wird nur in diesem Browser gespeichert.',
  'prejoin.join': 'Meeting beitreten',
  'prejoin.joining': 'Trete bei…',
  'prejoin.cameraOff': 'Deine Kamera ist aus',
  'prejoin.starting': 'Kamera startet…',
  'prejoin.preview': 'Kameravorschau',
  'prejoin.devices': 'Geräte',

  'displayName.empty': 'Bitte gib deinen Namen ein.',
  'displayName.long': 'Ein Name darf höchstens 64 Zeichen haben.',
  'displayName.control': 'Ein Name darf keine Steuerzeichen enthalten.',

  'device.camera': 'Kamera',
  'device.microphone': 'Mikrofon',
  'device.speaker': 'Lautsprecher',
  'device.micLevel': 'Mikrofonpegel',
  'device.default': 'Standard',
  'device.none': 'Keines gefunden',
  'device.unnamed': '{kind} {n}',
  'device.turnOffMic': 'Mikrofon ausschalten',
  'device.turnOnMic': 'Mikrofon einschalten',
  'device.turnOffCam': 'Kamera ausschalten',
  'device.turnOnCam': 'Kamera einschalten',
  'device.denied': 'Kamera und Mikrofon sind für diese Seite gesperrt. Du kannst trotzdem beitreten oder sie in den Website-Einstellungen des Browsers erlauben und neu laden.',
  'device.notFound': 'Keine Kamera und kein Mikrofon gefunden. Du kannst trotzdem beitreten, zuschauen und zuhören.',
  'device.cameraFailed': 'Die Kamera konnte nicht gestartet werden.',
  'device.micFailed': 'Das Mikrofon konnte nicht gestartet werden.',
  'device.failed': 'Kamera und Mikrofon konnten nicht gestartet werden ({error}). Du kannst trotzdem beitreten.',
  'device.insecure': 'Kamera und Mikrofon brauchen eine sichere Verbindung (https). Du kannst trotzdem beitreten, zuschauen und zuhören.',

  'meeting.you': '{name} (du)',
  'meeting.screenOf': 'Bildschirm von {name}',
  'meeting.micMuted': 'Mikrofon stummgeschaltet',
  'meeting.mute': 'Mikrofon stummschalten',
  'meeting.unmute': 'Stummschaltung aufheben',
  'meeting.stopCamera': 'Kamera ausschalten',
  'meeting.startCamera': 'Kamera einschalten',
  'meeting.share': 'Bildschirm teilen',
  'meeting.stopShare': 'Bildschirmfreigabe beenden',
  'meeting.invite': 'Einladungslink kopieren',
  'meeting.leave': 'Meeting verlassen',
  'meeting.leaveShort': 'Verlassen',
  'meeting.settings': 'Einstellungen',
  'meeting.controls': 'Meeting-Steuerung',
  'meeting.participants': 'Teilnehmende',
  'meeting.peopleOne': '1 Person',
  'meeting.peopleMany': '{count} Personen',
  'meeting.connecting': 'Verbinde…',
  'meeting.alone': 'Du bist noch allein hier',
  'meeting.aloneHint': 'Kopiere den Einladungslink und schick ihn an die Menschen, mit denen du reden möchtest.',
  'meeting.youShare': 'Du teilst deinen Bildschirm',
  'meeting.joined': '{name} ist beigetreten',
  'meeting.left': '{name} hat das Meeting verlassen',
  'meeting.sharing': '{name} teilt den Bildschirm',
  'meeting.inviteCopied': 'Einladungslink kopiert',
  'meeting.inviteFailed': 'Kopieren ging nicht. Der Einladungslink ist {url}',
  'meeting.shareFailed': 'Die Bildschirmfreigabe wurde nicht gestartet.',
  'meeting.mediaFailed': 'Die Medienverbindung ist abgebrochen.',

  'settings.title': 'Einstellungen',
  'settings.close': 'Schließen',

  'left.title': 'Du hast das Meeting verlassen',
  'left.disconnected': 'Die Verbindung wurde getrennt',
  'left.notJoined': 'Beitreten war nicht möglich',
  'left.rejoin': 'Erneut beitreten',
  'left.back': 'Zurück zum Start',
  'left.reason': 'Grund laut Server: {reason}',
  'left.lost': 'Die Verbindung zum Server ist abgebrochen.',
  'left.unreachable': 'Der Server war nicht erreichbar.',

  'error.room_full': 'Dieses Meeting ist voll.',
  'error.server_full': 'Der Server ist gerade ausgelastet. Bitte versuch es später noch einmal.',
  'error.bad_room': 'Dieser Meeting-Name ist ungültig.',
  'error.bad_name': 'Der Server hat deinen Namen nicht angenommen.',
  'error.internal': 'Auf dem Server ist etwas schiefgegangen.',
  'error.other': 'Der Server hat die Verbindung beendet.',
};

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
