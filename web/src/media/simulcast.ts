// How we send video to the server (docs/protocol.md, the paragraph after
// `view`): the camera as simulcast, three encodings the server picks from
// per subscriber; a shared screen as one sharp encoding at a low frame rate.
// Only the server path: a direct call for two sends one camera layer.

/** The camera's layers, smallest first: a quarter, half and the full size (1280x720 asked for). */
export const CAMERA_LAYERS: readonly RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/** The full layer alone, for a server that answers without simulcast. */
const SINGLE = { scaleResolutionDownBy: 1, maxBitrate: 1_500_000 };

/** Text stays readable: full resolution, few frames. */
export const SCREEN_ENCODING: RTCRtpEncodingParameters = { scaleResolutionDownBy: 1, maxFramerate: 5, maxBitrate: 2_000_000 };

type Init = Pick<RTCRtpTransceiverInit, 'sendEncodings'>;

export function cameraInit(): Init {
  return { sendEncodings: CAMERA_LAYERS.map((e) => ({ ...e })) };
}

export function screenInit(): Init {
  return { sendEncodings: [{ ...SCREEN_ENCODING }] };
}

type SendParams = RTCRtpSendParameters & { degradationPreference?: string };

/** A screen keeps its resolution when bandwidth or CPU run short; frames go first. */
export async function tuneScreen(sender: RTCRtpSender): Promise<void> {
  try {
    const p = sender.getParameters() as SendParams;
    if (!p.encodings?.length) return;
    p.degradationPreference = 'maintain-resolution';
    await sender.setParameters(p);
  } catch {
    // Not every browser lets this be set; the encoding's own limits still hold.
  }
}

/**
 * After the answer: a server that did not take simulcast leaves the browser
 * sending only the first encoding, the quarter-size one. Then that one
 * becomes the full-size layer.
 */
export async function fitSingleLayer(sender: RTCRtpSender): Promise<boolean> {
  try {
    const p = sender.getParameters();
    const e = p.encodings;
    if (e?.length !== 1 || !e[0] || (e[0].scaleResolutionDownBy ?? 1) === 1) return false;
    e[0] = { ...e[0], ...SINGLE };
    await sender.setParameters(p);
    return true;
  } catch {
    return false;
  }
}

const RID_EXTENSION = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';

/**
 * An answer that takes simulcast on an m-line without the RID header
 * extension is refused by the browser as a whole (a server that does not do
 * simulcast may answer so). Such m-lines lose their simulcast lines here, so
 * the answer reads as "one layer" and the browser sends just that.
 */
export function dropUnusableSimulcast(sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const [head, ...media] = sdp.split(`${eol}m=`);
  const fixed = media.map((section) => {
    const lines = section.split(eol);
    const simulcast = lines.some((l) => l.startsWith('a=simulcast:'));
    const rid = lines.some((l) => l.startsWith('a=extmap:') && l.includes(RID_EXTENSION));
    if (!simulcast || rid) return section;
    return lines.filter((l) => !l.startsWith('a=simulcast:') && !l.startsWith('a=rid:')).join(eol);
  });
  return [head, ...fixed].join(`${eol}m=`);
}

/**
 * Switches a video sender's encodings on or off with its track. Without a
 * track a simulcast sender would still pad its layers for the bandwidth
 * estimate, and the server would keep receiving packets from someone who
 * sends nothing (a direct call, a camera switched off).
 */
export async function setActive(sender: RTCRtpSender, on: boolean): Promise<void> {
  try {
    const p = sender.getParameters();
    if (!p.encodings?.length || p.encodings.every((e) => (e.active ?? true) === on)) return;
    for (const e of p.encodings) e.active = on;
    await sender.setParameters(p);
  } catch {
    // The browser refused (a negotiation under way): the track alone decides then.
  }
}
