// The 64 symbols of the verification code (docs/protocol.md: 6 bits each).
// Chosen to be easy to tell apart and to name aloud, each one code point with
// its own colour presentation. The order is part of the protocol: every
// client must use this exact list.

export const EMOJI: readonly string[] = [
  '🐶', '🐱', '🐭', '🐰', '🦊', '🐻', '🐼', '🐨',
  '🐯', '🦁', '🐮', '🐷', '🐸', '🐵', '🐔', '🐧',
  '🐦', '🦆', '🦉', '🐴', '🦄', '🐝', '🐛', '🦋',
  '🐌', '🐢', '🐍', '🐙', '🦀', '🐬', '🐳', '🐟',
  '🌵', '🌲', '🌻', '🍄', '🌙', '⭐', '🔥', '🌈',
  '⛄', '🍎', '🍋', '🍌', '🍉', '🍇', '🍓', '🍒',
  '🥕', '🌽', '🍕', '🍩', '🎂', '☕', '🚲', '🚗',
  '🚀', '⛵', '🎈', '🎸', '🔑', '🔔', '⚽', '🎩',
];
