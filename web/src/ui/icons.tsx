// Line icons drawn inline (nothing is fetched). All are decorative: the
// button or element around them carries the accessible name.

import type { JSX } from 'preact';

function Svg(props: { children: JSX.Element | JSX.Element[] }): JSX.Element {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
      {props.children}
    </svg>
  );
}

export const MicIcon = (): JSX.Element => (
  <Svg>
    <rect x="9" y="3" width="6" height="11" rx="3" />
    <path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7" />
  </Svg>
);

export const MicOffIcon = (): JSX.Element => (
  <Svg>
    <path d="M15 9.5V6a3 3 0 0 0-5.7-1.3M9 9v2a3 3 0 0 0 4.6 2.5" />
    <path d="M5.5 11a6.5 6.5 0 0 0 10.9 4.8M18.4 12.3c.07-.42.1-.86.1-1.3M12 17.5V21M8.5 21h7M4 4l16 16" />
  </Svg>
);

export const CamIcon = (): JSX.Element => (
  <Svg>
    <rect x="3" y="6.5" width="12.5" height="11" rx="2.5" />
    <path d="M15.5 10.5l5-3v9l-5-3" />
  </Svg>
);

export const CamOffIcon = (): JSX.Element => (
  <Svg>
    <path d="M9 6.5h4a2.5 2.5 0 0 1 2.5 2.5v3.5M15.5 10.5l5-3v9l-3.2-1.9M14.7 17.3c-.4.15-.8.2-1.2.2h-8A2.5 2.5 0 0 1 3 15V9c0-1.1.7-2 1.7-2.35M3 3l18 18" />
  </Svg>
);

export const ScreenIcon = (): JSX.Element => (
  <Svg>
    <rect x="3" y="4" width="18" height="12.5" rx="2" />
    <path d="M9 20.5h6M12 16.5v4M12 13V7.5M9.5 10 12 7.5l2.5 2.5" />
  </Svg>
);

export const ScreenOffIcon = (): JSX.Element => (
  <Svg>
    <rect x="3" y="4" width="18" height="12.5" rx="2" />
    <path d="M9 20.5h6M12 16.5v4M9.5 8l5 5M14.5 8l-5 5" />
  </Svg>
);

export const LinkIcon = (): JSX.Element => (
  <Svg>
    <path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1" />
    <path d="M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1" />
  </Svg>
);

export const GearIcon = (): JSX.Element => (
  <Svg>
    <circle cx="12" cy="12" r="3" />
    <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
  </Svg>
);

export const LeaveIcon = (): JSX.Element => (
  <Svg>
    <path d="M4.2 14.6c-.9-.9-.9-2.3.1-3.1C6.5 9.6 9.2 8.6 12 8.6s5.5 1 7.7 2.9c1 .8 1 2.2.1 3.1l-1 1a1.5 1.5 0 0 1-2 .1l-1.6-1.2a1.5 1.5 0 0 1-.6-1.2v-1.5a9.6 9.6 0 0 0-5.2 0v1.5c0 .5-.2.9-.6 1.2l-1.6 1.2a1.5 1.5 0 0 1-2-.1z" />
  </Svg>
);

export const RefreshIcon = (): JSX.Element => (
  <Svg>
    <path d="M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7" />
  </Svg>
);

export const GlobeIcon = (): JSX.Element => (
  <Svg>
    <circle cx="12" cy="12" r="9" />
    <path d="M3 12h18M12 3c2.5 2.6 3.7 5.6 3.7 9s-1.2 6.4-3.7 9c-2.5-2.6-3.7-5.6-3.7-9S9.5 5.6 12 3z" />
  </Svg>
);

export const PeopleIcon = (): JSX.Element => (
  <Svg>
    <circle cx="9" cy="8.5" r="3.5" />
    <path d="M2.5 20c.6-3.4 3.2-5.5 6.5-5.5s5.9 2.1 6.5 5.5M16 5.3a3.5 3.5 0 0 1 0 6.4M18 14.8c1.9.7 3.2 2.5 3.5 5.2" />
  </Svg>
);

export const ChatIcon = (): JSX.Element => (
  <Svg>
    <path d="M4 6.5A2.5 2.5 0 0 1 6.5 4h11A2.5 2.5 0 0 1 20 6.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 3.5V17h0A2.5 2.5 0 0 1 4 14.5z" />
    <path d="M8 9h8M8 12.5h5" />
  </Svg>
);

export const ShieldIcon = (): JSX.Element => (
  <Svg>
    <path d="M12 3l7.5 3v5.5c0 4.6-3.1 8.2-7.5 9.5-4.4-1.3-7.5-4.9-7.5-9.5V6z" />
    <path d="M8.8 12l2.3 2.3 4.2-4.6" />
  </Svg>
);

export const KeyWaitIcon = (): JSX.Element => (
  <Svg>
    <circle cx="8" cy="14" r="4" />
    <path d="M11 11l8-8M16 6l2.5 2.5M14 8l2 2" />
  </Svg>
);

export const CloseIcon = (): JSX.Element => (
  <Svg>
    <path d="M6 6l12 12M18 6L6 18" />
  </Svg>
);

export const SendIcon = (): JSX.Element => (
  <Svg>
    <path d="M4 12l16-8-6 16-2.5-6.5z" />
    <path d="M11.5 13.5L20 4" />
  </Svg>
);

export const StarIcon = (): JSX.Element => (
  <Svg>
    <path d="M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8-5.2-2.7-5.2 2.7 1-5.8-4.3-4.1 5.9-.9z" />
  </Svg>
);

/** The Plausch mark: two overlapping speech bubbles. */
export const Logo = (props: { size?: number }): JSX.Element => (
  <svg class="logo" viewBox="0 0 64 64" width={props.size ?? 32} height={props.size ?? 32} aria-hidden="true" focusable="false">
    <rect width="64" height="64" rx="16" fill="#0f766e" />
    <path d="M14 20a8 8 0 0 1 8-8h16a8 8 0 0 1 8 8v9a8 8 0 0 1-8 8h-9l-8 6v-6.4A8 8 0 0 1 14 29z" fill="#fefcf7" />
    <path d="M50 27.5a6 6 0 0 1 4 5.6v7a6 6 0 0 1-6 6h-.5V51l-6.3-4.9H36a6 6 0 0 1-5.6-4H38a12 12 0 0 0 12-12z" fill="#f59e7a" />
    <circle cx="24" cy="24.5" r="2.4" fill="#0f766e" />
    <circle cx="36" cy="24.5" r="2.4" fill="#0f766e" />
  </svg>
);

export const CheckIcon = (): JSX.Element => (
  <Svg>
    <path d="M5 12.5l4.2 4.2L19 7" />
  </Svg>
);

export const UnlockIcon = (): JSX.Element => (
  <Svg>
    <rect x="5" y="11" width="14" height="9.5" rx="2" />
    <path d="M8.5 11V7.5a3.5 3.5 0 0 1 6.8-1.2" />
  </Svg>
);

export const DirectIcon = (): JSX.Element => (
  <Svg>
    <circle cx="5.5" cy="12" r="2.5" />
    <circle cx="18.5" cy="12" r="2.5" />
    <path d="M8 12h8" />
  </Svg>
);

export const GridIcon = (): JSX.Element => (
  <Svg>
    <rect x="3.5" y="4.5" width="7.5" height="6.5" rx="1.5" />
    <rect x="13" y="4.5" width="7.5" height="6.5" rx="1.5" />
    <rect x="3.5" y="13" width="7.5" height="6.5" rx="1.5" />
    <rect x="13" y="13" width="7.5" height="6.5" rx="1.5" />
  </Svg>
);

export const SpeakerViewIcon = (): JSX.Element => (
  <Svg>
    <rect x="3" y="3.5" width="18" height="11.5" rx="2" />
    <rect x="3" y="17.5" width="5" height="3.5" rx="1" />
    <rect x="9.5" y="17.5" width="5" height="3.5" rx="1" />
    <rect x="16" y="17.5" width="5" height="3.5" rx="1" />
  </Svg>
);

export const ChevronLeftIcon = (): JSX.Element => (
  <Svg>
    <path d="M14.5 6l-6 6 6 6" />
  </Svg>
);

export const ChevronRightIcon = (): JSX.Element => (
  <Svg>
    <path d="M9.5 6l6 6-6 6" />
  </Svg>
);

/** Signal bars: `lit` of three filled (the element around it names the level). */
export const BarsIcon = (props: { lit: number }): JSX.Element => (
  <svg class="bars" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
    {[0, 1, 2].map((i) => (
      <rect key={i} class={i < props.lit ? 'lit' : ''} x={1 + i * 5} y={10 - i * 4} width="4" height={5 + i * 4} rx="1" />
    ))}
  </svg>
);
