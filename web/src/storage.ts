// The only things Plausch keeps in the browser: the display name, the language
// and the chosen device ids. Nothing else goes into localStorage.

const KEY_NAME = 'plausch.name';
const KEY_LANG = 'plausch.lang';
const KEY_DEVICES = 'plausch.devices';

export interface DevicePrefs {
  camera?: string;
  microphone?: string;
  speaker?: string;
}

// localStorage throws in some private modes and when disabled; the app then
// simply forgets, it never breaks.
function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Not remembered; harmless.
  }
}

function remove(key: string): void {
  try {
    window.localStorage.removeItem(key);
  } catch {
    // Nothing stored, nothing to remove.
  }
}

export const storage = {
  /** Forgets everything Plausch keeps in this browser. */
  clear(): void {
    for (const k of [KEY_NAME, KEY_LANG, KEY_DEVICES]) remove(k);
  },
  name: (): string => read(KEY_NAME) ?? '',
  setName: (name: string): void => write(KEY_NAME, name),
  lang: (): string | null => read(KEY_LANG),
  setLang: (lang: string): void => write(KEY_LANG, lang),
  devices(): DevicePrefs {
    const raw = read(KEY_DEVICES);
    if (!raw) return {};
    try {
      const v: unknown = JSON.parse(raw);
      if (typeof v !== 'object' || v === null) return {};
      const o = v as Record<string, unknown>;
      const pick = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
      const prefs: DevicePrefs = {};
      const camera = pick('camera');
      const microphone = pick('microphone');
      const speaker = pick('speaker');
      if (camera) prefs.camera = camera;
      if (microphone) prefs.microphone = microphone;
      if (speaker) prefs.speaker = speaker;
      return prefs;
    } catch {
      return {};
    }
  },
  setDevice(kind: keyof DevicePrefs, id: string): void {
    const prefs = storage.devices();
    prefs[kind] = id;
    write(KEY_DEVICES, JSON.stringify(prefs));
  },
};
