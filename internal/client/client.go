// Package client is a Plausch participant in Go: it speaks the signalling
// protocol over the WebSocket, publishes the bundled sample media through
// Pion, and checks what it receives. Integration tests and, later, the load
// generator use it.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"plausch.dev/plausch/internal/signal"
)

// Options configure a participant.
type Options struct {
	Name         string
	Audio, Video bool // announced in join
	Password     string
	PublicKey    string // base64url raw P-256 point; empty sends none
	E2EE         bool   // announce end-to-end media encryption
	Resumable    bool   // ask for a resume token
	// KeyframeEvery, when set, asks every received video track for a
	// keyframe this often (probing what the server forwards).
	KeyframeEvery time.Duration
	// InspectKeyframes records each received VP8 keyframe (and decodes it).
	InspectKeyframes bool
	// Loopback limits ICE to 127.0.0.1/::1 (tests must not leave the host).
	Loopback bool
	// Simulcast sends the camera as three layers (rids q, h, f), as the
	// browser client does.
	Simulcast bool
	// Receive, if set, sees every incoming RTP packet before anything else
	// in the client does (e.g. to model a constrained downlink).
	Receive interceptor.Factory
	// Net, when set, carries the media instead of the host's network
	// (Pion's SettingEngine.SetNet): tests impair it with netsim.
	Net transport.Net
	// DialContext, when set, opens the signalling WebSocket's TCP
	// connections, so a test can cut that link too.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// OnMessage, when set, sees every server message before it is handled
	// (tests record what others saw). It runs on the read loop.
	OnMessage func(data []byte)
	// RootCAs, when set, are the roots trusted for an https:// server
	// (tests: a CA of their own).
	RootCAs *x509.CertPool
	// RelayVia, when set, sends media only through those TURN URLs handed
	// out in joined that it accepts (ICE transport policy "relay"), as a
	// browser behind a firewall that lets no UDP through ends up doing.
	RelayVia func(url string) bool
}

// Client is one participant connected to a server.
type Client struct {
	ID string

	ws     *websocket.Conn
	api    *webrtc.API
	opts   Options
	pub    *webrtc.PeerConnection
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// closing is set under mu by Close before it waits: Pion's goroutines
	// (onTrack) start no goroutine of the client's after it.
	closing bool

	pubAnswers chan string
	dropped    atomic.Bool // the connection was cut on purpose (Drop)
	baseURL    string
	loudness   atomic.Int32                      // -dBov sent in the audio level extension
	senders    map[string]*webrtc.RTPTransceiver // source -> transceiver
	pacers     map[string][]*pacer               // source -> its encodings' senders

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	state   State
	sub     *webrtc.PeerConnection
	mids    map[string]signal.SubscribedTrack
}

// State is what the participant knows; tests wait for conditions on it.
type State struct {
	ID           string // set once admitted
	ResumeToken  string
	ICEServers   []signal.ICEServer // from the last joined
	Role         string
	Waiting      bool // in the lobby
	Settings     signal.Settings
	Knocks       map[string]string // waiting id -> name (moderators)
	Muted        []signal.Muted
	Chats        []signal.ChatMessage
	Relays       []signal.RelayMessage
	Mode         signal.MediaMode // how media travels now
	Draining     int              // seconds the server announced before shutting down
	Participants map[string]signal.Participant
	Speaking     []string
	Dominant     string                               // the dominant speaker
	Forwarded    []signal.ForwardedVideo              // videos the server sends now
	Quality      map[string]signal.ParticipantQuality // latest figures, by participant
	Errors       []signal.ErrorMessage
	Received     map[Key]*TrackStats
	Sent         map[string]int // frames (video) or packets (audio) sent, by source
	Offers       int
	Closed       bool
	CloseStatus  websocket.StatusCode
	CloseReason  string
}

// Key names a received track: whose, and which source.
type Key struct{ Participant, Source string }

// TrackStats counts what arrived on one received track.
type TrackStats struct {
	Kind      string
	Packets   int
	Bytes     int
	Frames    int // whole frames (video) or packets (audio) matching the sample
	BadFrames int // frames whose bytes match nothing that was sent
	Ended     bool
	Keyframes []Keyframe // VP8 keyframes received, the first maxKeyframes (with InspectKeyframes)

	// Simulcast: which sample layer the latest frame came from (-1 before
	// the first), how often that changed, and how many of those changes did
	// not begin with a keyframe (which a correct server never does).
	Layer                  int
	LayerSwitches          int
	SwitchesNotAtKeyframes int
	CutShort               int // frames whose last packet never came (a layer switch in their middle)
	// PictureIDJumps counts frames whose VP8 picture id does not follow
	// the previous frame's.
	PictureIDJumps int
	lastPicID      int

	// For load figures.
	Lost          int           // packets missing from the sequence
	Late          int           // packets that came after a later one: retransmissions, where nothing reorders
	Freezes       int           // gaps over FreezeGap between packets
	MaxGap        time.Duration // the longest gap between packets
	First, Last   time.Time     // arrival of the first and the latest packet
	firstSeq, ext uint32        // sequence numbers, extended over wraps

	// Video only: gaps between whole frames, what a viewer sees as a stall.
	FrameFreezes int           // gaps over FreezeGap between whole frames
	MaxFrameGap  time.Duration // the longest gap between whole frames
	lastFrame    time.Time
}

// FreezeGap is how long a stream may be silent before it counts as frozen.
const FreezeGap = 500 * time.Millisecond

func (s *TrackStats) observe(seq uint16, now time.Time) {
	if s.Packets == 0 {
		s.firstSeq, s.ext, s.First = uint32(seq), uint32(seq), now
	} else {
		// Extend the 16-bit sequence number across wraps.
		d := int16(seq - uint16(s.ext))
		if d > 0 {
			s.ext += uint32(d)
		} else if d < 0 {
			s.Late++
		}
		if gap := now.Sub(s.Last); gap > s.MaxGap {
			s.MaxGap = gap
		}
		if now.Sub(s.Last) > FreezeGap {
			s.Freezes++
		}
	}
	s.Last = now
	s.Packets++
	s.Lost = max(0, int(s.ext-s.firstSeq+1)-s.Packets)
}

// frameArrived notes when a whole video frame came out of reassembly.
func (s *TrackStats) frameArrived(now time.Time) {
	if !s.lastFrame.IsZero() {
		gap := now.Sub(s.lastFrame)
		s.MaxFrameGap = max(s.MaxFrameGap, gap)
		if gap > FreezeGap {
			s.FrameFreezes++
		}
	}
	s.lastFrame = now
}

// Keyframe is one received VP8 keyframe as the server forwarded it.
type Keyframe struct {
	Timestamp uint32 `json:"rtpTimestamp"`
	SHA256    string `json:"sha256"`
	Bytes     int    `json:"bytes"`
	// Decodes says whether a VP8 decoder accepts the frame. Random bytes
	// behind a valid header are accepted about a quarter of the time, so
	// one decodable frame proves little; many undecodable ones do.
	Decodes bool `json:"decodes"`
}

const maxKeyframes = 64

// Dial connects to the server at baseURL (http://host:port), joins room and
// waits for the server's "joined".
func Dial(ctx context.Context, baseURL, room string, opts Options) (*Client, error) {
	api, err := newAPI(opts, baseURL)
	if err != nil {
		return nil, err
	}
	ws, err := dialWS(ctx, baseURL, opts.DialContext, opts.RootCAs)
	if err != nil {
		return nil, err
	}
	c := &Client{
		ws: ws, api: api, opts: opts, baseURL: baseURL,
		pubAnswers: make(chan string, 1),
		senders:    map[string]*webrtc.RTPTransceiver{},
		pacers:     map[string][]*pacer{},
		changed:    make(chan struct{}),
		state: State{Participants: map[string]signal.Participant{}, Received: map[Key]*TrackStats{},
			Sent: map[string]int{}, Knocks: map[string]string{}},
	}
	c.loudness.Store(Silent)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	joined := make(chan entry, 1)
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.readLoop(ws, joined) }()
	join := map[string]any{"type": "join", "room": room, "name": opts.Name, "audio": opts.Audio, "video": opts.Video}
	if opts.Password != "" {
		join["password"] = opts.Password
	}
	if opts.PublicKey != "" {
		join["publicKey"] = opts.PublicKey
	}
	if opts.E2EE {
		join["e2ee"] = true
	}
	if opts.Resumable {
		join["resumable"] = true
	}
	if err := c.Send(join); err != nil {
		c.Close()
		return nil, err
	}
	select {
	case e := <-joined:
		if e.err != nil {
			c.Close()
			return nil, e.err
		}
		c.ID = e.id // empty while waiting in the lobby
		return c, nil
	case <-ctx.Done():
		st := c.State()
		c.Close()
		return nil, fmt.Errorf("no joined (errors %v, close %q): %w", st.Errors, st.CloseReason, ctx.Err())
	case <-c.ctx.Done():
		st := c.State()
		c.Close()
		return nil, fmt.Errorf("closed before joined: %v %q %v", st.CloseStatus, st.CloseReason, st.Errors)
	}
}

// dialWS opens the signalling WebSocket of the server at baseURL, over
// dial if it is set.
func dialWS(ctx context.Context, baseURL string, dial func(context.Context, string, string) (net.Conn, error), roots *x509.CertPool) (*websocket.Conn, error) {
	wsURL := "ws" + strings.TrimPrefix(baseURL, "http") + "/ws"
	var opts *websocket.DialOptions
	if dial != nil || roots != nil {
		t := &http.Transport{DialContext: dial}
		if roots != nil {
			t.TLSClientConfig = &tls.Config{RootCAs: roots}
		}
		opts = &websocket.DialOptions{HTTPClient: &http.Client{Transport: t}}
	}
	ws, _, err := websocket.Dial(ctx, wsURL, opts)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", wsURL, err)
	}
	ws.SetReadLimit(4 << 20)
	return ws, nil
}

func newAPI(opts Options, baseURL string) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	// As browsers do, ask for lost audio packets too (the server answers
	// from its cache).
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeAudio)
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if opts.Receive != nil {
		// Added first, it is nearest the network: what it delays or
		// drops, the NACK and congestion feedback see that way too.
		ir.Add(opts.Receive)
	}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	if opts.Net != nil {
		se.SetNet(opts.Net)
	}
	if opts.Loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		// Nor answer a browser that checks from a non-loopback address.
		se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" || name == "lo0" })
	}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if u, err := url.Parse(baseURL); err == nil && u.Scheme == "https" && opts.RootCAs != nil {
		se.SetICEProxyDialer(turnDialer{https: u.Host, roots: opts.RootCAs})
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// Send writes any JSON value as one message (tests use it for bad input).
func (c *Client) Send(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.SendRaw(websocket.MessageText, data)
}

// SendRaw writes one WebSocket message as it is.
func (c *Client) SendRaw(typ websocket.MessageType, data []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	return ws.Write(ctx, typ, data)
}

// State returns a copy of what the participant knows now.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.state
	s.Participants = make(map[string]signal.Participant, len(c.state.Participants))
	for k, v := range c.state.Participants {
		s.Participants[k] = v
	}
	s.Received = make(map[Key]*TrackStats, len(c.state.Received))
	for k, v := range c.state.Received {
		cp := *v
		s.Received[k] = &cp
	}
	s.Sent = make(map[string]int, len(c.state.Sent))
	for k, v := range c.state.Sent {
		s.Sent[k] = v
	}
	s.Errors = append([]signal.ErrorMessage(nil), c.state.Errors...)
	s.Knocks = make(map[string]string, len(c.state.Knocks))
	for k, v := range c.state.Knocks {
		s.Knocks[k] = v
	}
	s.Muted = append([]signal.Muted(nil), c.state.Muted...)
	s.Chats = append([]signal.ChatMessage(nil), c.state.Chats...)
	s.Relays = append([]signal.RelayMessage(nil), c.state.Relays...)
	return s
}

// WaitFor waits until cond holds for the state, or ctx ends.
func (c *Client) WaitFor(ctx context.Context, cond func(State) bool) error {
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		st := c.State()
		if cond(st) {
			return nil
		}
		select {
		case <-ch:
		case <-time.After(100 * time.Millisecond): // stats change without events
		case <-ctx.Done():
			return fmt.Errorf("%s: condition not met: %w", c.ID, ctx.Err())
		}
	}
}

func (c *Client) update(f func(*State)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.state)
	close(c.changed)
	c.changed = make(chan struct{})
}

// Leave sends "leave" and closes everything.
func (c *Client) Leave() {
	_ = c.Send(map[string]string{"type": "leave"})
	c.Close()
}

// Close ends the participant without saying goodbye and waits for its
// goroutines.
func (c *Client) Close() {
	c.cancel()
	c.mu.Lock()
	ws := c.ws
	c.closing = true
	c.mu.Unlock()
	ws.CloseNow()
	if c.pub != nil {
		_ = c.pub.Close()
	}
	c.mu.Lock()
	sub := c.sub
	c.mu.Unlock()
	if sub != nil {
		_ = sub.Close()
	}
	c.wg.Wait()
}

// entry is how a join ended: admitted (id), waiting, or refused.
type entry struct {
	id  string
	err *JoinError
}

// JoinError is the server's refusal of a join.
type JoinError struct{ signal.ErrorMessage }

func (e *JoinError) Error() string { return string(e.Code) + ": " + e.Message }

func (c *Client) readLoop(ws *websocket.Conn, joined chan<- entry) {
	defer func() {
		// The end of a connection that Drop cut, or that Resume has
		// replaced, ends nothing. Resume replaces c.ws before it clears
		// dropped, so reading them in the other order cannot see both
		// "not dropped" and "still current" for a replaced connection.
		dropped := c.dropped.Load()
		c.mu.Lock()
		current := c.ws == ws
		c.mu.Unlock()
		if !dropped && current {
			c.cancel()
		}
	}()
	for {
		_, data, err := ws.Read(c.ctx)
		if err != nil {
			c.update(func(s *State) {
				if c.ws != ws {
					return // replaced: its end is old news
				}
				s.Closed = true
				s.CloseStatus = websocket.CloseStatus(err)
				var ce websocket.CloseError
				if errors.As(err, &ce) {
					s.CloseReason = ce.Reason
				}
			})
			return
		}
		if err := c.handle(data, joined); err != nil {
			c.update(func(s *State) {
				s.Errors = append(s.Errors, signal.ErrorMessage{Code: "client", Message: err.Error()})
			})
		}
	}
}

// serverMsg is the union of all server message fields.
type serverMsg struct {
	Type         string                   `json:"type"`
	ID           string                   `json:"id"`
	Role         string                   `json:"role"`
	Settings     signal.Settings          `json:"settings"`
	Kind         string                   `json:"kind"`
	By           string                   `json:"by"`
	From         string                   `json:"from"`
	To           string                   `json:"to"`
	Data         string                   `json:"data"`
	Mode         string                   `json:"mode"`
	Seconds      int                      `json:"seconds"`
	Resume       string                   `json:"resume"`
	ICEServers   []signal.ICEServer       `json:"iceServers"`
	Peer         string                   `json:"peer"`
	RetryAfter   int                      `json:"retryAfter"`
	SDP          string                   `json:"sdp"`
	Tracks       []signal.SubscribedTrack `json:"tracks"`
	Participants []signal.Participant     `json:"participants"`
	Participant  signal.Participant       `json:"participant"`
	IDs          []string                 `json:"ids"`
	Videos       []signal.ForwardedVideo  `json:"videos"`
	Code         signal.Code              `json:"code"`
	Message      string                   `json:"message"`
}

func (c *Client) handle(data []byte, joined chan<- entry) error {
	if c.opts.OnMessage != nil {
		c.opts.OnMessage(data)
	}
	var m serverMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("bad server message: %w", err)
	}
	tell := func(e entry) {
		select {
		case joined <- e:
		default:
		}
	}
	switch m.Type {
	case "joined":
		c.update(func(s *State) {
			s.ID, s.Role, s.Settings, s.Waiting, s.ICEServers = m.ID, m.Role, m.Settings, false, m.ICEServers
			if m.Resume != "" {
				s.ResumeToken = m.Resume
			}
			for _, p := range m.Participants {
				s.Participants[p.ID] = p
			}
		})
		tell(entry{id: m.ID})
	case "lobby.waiting":
		c.update(func(s *State) { s.Waiting = true })
		tell(entry{})
	case "lobby.knock":
		c.update(func(s *State) { s.Knocks[m.Participant.ID] = m.Participant.Name })
	case "lobby.gone":
		c.update(func(s *State) { delete(s.Knocks, m.ID) })
	case "room.settings":
		c.update(func(s *State) { s.Settings = m.Settings })
	case "muted":
		c.update(func(s *State) { s.Muted = append(s.Muted, signal.Muted{Kind: m.Kind, By: m.By}) })
	case "chat":
		c.update(func(s *State) { s.Chats = append(s.Chats, signal.ChatMessage{From: m.From, To: m.To, Data: m.Data}) })
	case "server.draining":
		c.update(func(s *State) { s.Draining = m.Seconds })
	case "media.mode":
		c.update(func(s *State) { s.Mode = signal.MediaMode{Mode: m.Mode, Peer: m.Peer} })
	case "relay":
		c.update(func(s *State) { s.Relays = append(s.Relays, signal.RelayMessage{From: m.From, Data: m.Data}) })
	case "participant.joined", "participant.updated":
		c.update(func(s *State) {
			if m.Participant.ID == s.ID {
				s.Role = m.Participant.Role // our own role changed
				return
			}
			s.Participants[m.Participant.ID] = m.Participant
		})
	case "participant.left":
		c.update(func(s *State) { delete(s.Participants, m.ID) })
	case "speaking":
		c.update(func(s *State) { s.Speaking = m.IDs })
	case "dominant":
		c.update(func(s *State) { s.Dominant = m.ID })
	case "forwarded":
		c.update(func(s *State) { s.Forwarded = m.Videos })
	case "quality":
		// Its participants are not those of joined: decoded on their own.
		var q signal.Quality
		if err := json.Unmarshal(data, &q); err != nil {
			return fmt.Errorf("bad quality message: %w", err)
		}
		c.update(func(s *State) {
			s.Quality = make(map[string]signal.ParticipantQuality, len(q.Participants))
			for _, p := range q.Participants {
				s.Quality[p.ID] = p
			}
		})
	case "error":
		e := signal.ErrorMessage{Code: m.Code, Message: m.Message, RetryAfter: m.RetryAfter}
		c.update(func(s *State) { s.Errors = append(s.Errors, e) })
		tell(entry{err: &JoinError{e}}) // only read while joining
	case "publish.answer":
		select {
		case c.pubAnswers <- m.SDP:
		default:
			return errors.New("unexpected publish.answer")
		}
	case "subscribe.offer":
		return c.answerSubscribe(m.SDP, m.Tracks)
	default:
		return fmt.Errorf("unknown server message %q", m.Type)
	}
	return nil
}

// Drop cuts the signalling connection without a word, like a network that
// went away; media connections stay as they are.
func (c *Client) Drop() {
	c.dropped.Store(true)
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	ws.CloseNow()
}

// Resume connects again and continues the session with the resume token.
func (c *Client) Resume(ctx context.Context) error {
	token := c.State().ResumeToken
	if token == "" {
		return errors.New("no resume token: join with Resumable")
	}
	ws, err := dialWS(ctx, c.baseURL, c.opts.DialContext, c.opts.RootCAs)
	if err != nil {
		return err
	}
	// resume goes first on the new connection: an answer to an offer that
	// came on the old one, sent meanwhile, must not overtake it (the
	// server refuses anything before resume).
	msg, _ := json.Marshal(map[string]string{"type": "resume", "token": token})
	if err := ws.Write(ctx, websocket.MessageText, msg); err != nil {
		ws.CloseNow()
		return err
	}
	c.mu.Lock()
	c.ws = ws // before dropped is cleared: see readLoop
	c.mu.Unlock()
	c.update(func(s *State) { s.Closed, s.CloseStatus, s.CloseReason = false, 0, "" })
	c.dropped.Store(false)
	joined := make(chan entry, 1)
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.readLoop(ws, joined) }()
	select {
	case e := <-joined:
		if e.err != nil {
			return e.err
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// turnDialer opens the TCP connections to TURN servers: to the server's
// HTTPS port with TLS, verified by the roots that the signalling trusts
// (Pion verifies TURN over TLS against the system's roots only, and does
// no TLS of its own when given a dialer).
type turnDialer struct {
	https string // host:port
	roots *x509.CertPool
}

func (d turnDialer) Dial(network, addr string) (net.Conn, error) {
	if addr != d.https {
		return net.Dial(network, addr)
	}
	host, _, _ := net.SplitHostPort(addr)
	return tls.Dial(network, addr, &tls.Config{RootCAs: d.roots, ServerName: host})
}
