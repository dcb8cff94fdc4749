// What the encryption indicator says about audio and video, decided in one
// pure function so it can be tested: "end-to-end encrypted" only when every
// participant's media is, right now, with keys exchanged both ways.

export interface PeerProtection {
  name: string;
  /** Their browser encrypts media frames end to end. */
  e2ee: boolean;
  /** We hold their key and they acknowledged ours. */
  exchanged: boolean;
  /** Their frames fail to decrypt here. */
  failing: boolean;
}

export interface MediaProtection {
  /** on: all end to end; exchanging: keys still on their way; partial: someone cannot encrypt; off: we cannot. */
  level: 'on' | 'exchanging' | 'partial' | 'off';
  /** Names of those whose browser cannot encrypt. */
  plain: string[];
  /** Names of those we have not exchanged keys with yet. */
  waiting: string[];
  /** Names of those whose media does not decrypt here. */
  failing: string[];
}

export function mediaProtection(selfE2ee: boolean, peers: PeerProtection[]): MediaProtection {
  const plain = peers.filter((p) => !p.e2ee).map((p) => p.name);
  const waiting = peers.filter((p) => p.e2ee && !p.exchanged).map((p) => p.name);
  const failing = peers.filter((p) => p.e2ee && p.failing).map((p) => p.name);
  let level: MediaProtection['level'] = 'on';
  if (!selfE2ee) level = 'off';
  else if (plain.length) level = 'partial';
  else if (waiting.length) level = 'exchanging';
  return { level, plain, waiting: selfE2ee ? waiting : [], failing: selfE2ee ? failing : [] };
}
