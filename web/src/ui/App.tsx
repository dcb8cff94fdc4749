// Which page to show, from the address: "/" is the start page, "/<name>" a
// meeting (prejoin, then the meeting, then the "you left" page).

import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Call, type Ending } from '../call';
import { fragment, parseFragment } from '../fragment';
import { getLang, onLangChange, t } from '../i18n';
import { LocalMedia } from '../media/devices';
import { checkMeetingName, meetingFromPath, type MeetingNameProblem } from '../names';
import { storage } from '../storage';
import { Left } from './Left';
import { Meeting } from './Meeting';
import { Notices } from './Notices';
import { Page } from './Page';
import { Prejoin } from './Prejoin';
import { Privacy } from './Privacy';
import { StartPage } from './StartPage';
import { T } from './Text';

type View =
  | { page: 'start' }
  | { page: 'privacy' }
  | { page: 'invalid'; raw: string; problem: MeetingNameProblem }
  | { page: 'prejoin'; room: string }
  | { page: 'meeting'; room: string; call: Call }
  | { page: 'left'; room: string; ending: Ending };

/** The page of the app's own that is not a meeting. */
export const PRIVACY_PATH = '/privacy';

function viewFor(pathname: string): View {
  if (pathname === PRIVACY_PATH) return { page: 'privacy' };
  const raw = meetingFromPath(pathname);
  if (raw === null) return { page: 'start' };
  const checked = checkMeetingName(raw);
  if (!checked.ok) return { page: 'invalid', raw, problem: checked.problem };
  // One spelling per meeting in the address bar: the lowercased one (the
  // #fragment with the meeting key stays).
  if (pathname !== '/' + checked.value && pathname !== '/' + encodeURIComponent(checked.value)) {
    history.replaceState(null, '', '/' + checked.value + location.hash);
  }
  return { page: 'prejoin', room: checked.value };
}

function Invalid(props: { raw: string; problem: MeetingNameProblem; navigate(path: string): void }): JSX.Element {
  return (
    <Page class="invalid-page" navigate={props.navigate}>
      <section class="card" aria-labelledby="invalid-title">
        <h1 id="invalid-title" tabIndex={-1}>
          {t('invalid.title')}
        </h1>
        <p class="lead">
          <T k="invalid.text" params={{ name: props.raw, reason: <T k={`meetingName.${props.problem}`} params={{ name: props.raw }} /> }} />
        </p>
        <a
          class="button primary"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            props.navigate('/');
          }}
        >
          {t('invalid.back')}
        </a>
      </section>
    </Page>
  );
}

export function App(): JSX.Element {
  const [view, setView] = useState<View>(() => viewFor(location.pathname));
  const [, setLang] = useState(getLang());
  const notices = useMemo(() => new Notices(), []);
  // The on/off choice of the last join, so "Rejoin" and the next prejoin keep it.
  const [last, setLast] = useState<{ name: string; audio: boolean; video: boolean } | null>(null);

  useEffect(
    () =>
      onLangChange((l) => {
        document.documentElement.lang = l;
        setLang(l);
      }),
    [],
  );

  useEffect(() => {
    const onPop = (): void => {
      setView((v) => {
        if (v.page === 'meeting') v.call.leave();
        return viewFor(location.pathname);
      });
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    if (view.page === 'privacy') document.title = `${t('privacy.title')} · ${t('app.name')}`;
    else if (view.page !== 'meeting') document.title = view.page === 'prejoin' || view.page === 'left' ? `${view.room} · ${t('app.name')}` : t('app.name');
    // Move focus to the new page's heading, as a page load would.
    if (view.page !== 'meeting') document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true });
  }, [view]);

  const navigate = (path: string): void => {
    if (view.page === 'meeting') view.call.leave();
    notices.clear();
    history.pushState(null, '', path);
    setView(viewFor(location.pathname));
    window.scrollTo(0, 0);
  };

  const join = (room: string, name: string, media: LocalMedia): void => {
    setLast({ name, audio: media.micOn, video: media.cameraOn });
    // The link's secrets are read here and live only in the call's memory.
    const secrets = parseFragment(location.hash);
    const call = new Call({
      room,
      name,
      media,
      meetingKey: secrets.key,
      password: secrets.password,
      notify: notices.push,
      keyChanged: (key) => {
        // The address now carries the key too, so a reload or a copied
        // address keeps it (the fragment never reaches the server).
        if (location.pathname === '/' + room || location.pathname === '/' + encodeURIComponent(room)) {
          history.replaceState(null, '', location.pathname + fragment(key, null));
        }
      },
      ended: (ending) => {
        // Rejoin keeps the microphone and camera as they were at the end.
        setLast({ name, audio: media.micOn, video: media.cameraOn });
        setView((v) => (v.page === 'meeting' && v.call === call ? { page: 'left', room, ending } : v));
      },
    });
    setView({ page: 'meeting', room, call });
    void call.start();
  };

  const rejoin = (room: string): void => {
    if (!last) {
      setView({ page: 'prejoin', room });
      return;
    }
    const media = new LocalMedia(storage.devices());
    void media.open({ audio: last.audio, video: last.video }).then(() => join(room, last.name, media));
  };

  switch (view.page) {
    case 'start':
      return <StartPage navigate={navigate} />;
    case 'privacy':
      return <Privacy navigate={navigate} />;
    case 'invalid':
      return <Invalid raw={view.raw} problem={view.problem} navigate={navigate} />;
    case 'prejoin':
      return (
        <Prejoin
          key={view.room}
          room={view.room}
          navigate={navigate}
          want={{ audio: last?.audio ?? true, video: last?.video ?? true }}
          join={(name, media) => join(view.room, name, media)}
        />
      );
    case 'meeting':
      return <Meeting call={view.call} notices={notices} navigate={navigate} />;
    case 'left':
      return <Left ending={view.ending} navigate={navigate} rejoin={() => rejoin(view.room)} />;
  }
}
