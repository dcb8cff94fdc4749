package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"plausch.dev/plausch/internal/sfu"
	"plausch.dev/plausch/internal/signal"
	"plausch.dev/plausch/internal/turn"
)

// TURNConfig turns on the built-in TURN server, for participants whose
// network lets no UDP through.
type TURNConfig struct {
	// Server is the TURN server's own configuration; its Own (the SFU's
	// media address) and Log are filled in by Start.
	Server turn.Config
	// Addr is where TURN listens on UDP and TCP, e.g. ":3478".
	Addr string
	// Host is the name or IP browsers reach the server by, as it goes into
	// the TURN URLs; for TURN over TLS, the name of the certificate.
	Host string
}

// relay is the built-in TURN server, serving on its own UDP and TCP
// sockets and, with HTTPS, on the HTTPS port. It implements
// session.Relay: each participant gets credentials of its own in joined,
// which end when it leaves.
type relay struct {
	srv  *turn.Server
	udp  net.PacketConn
	tcp  net.Listener
	urls []string
	wg   sync.WaitGroup
}

// mediaAddrs are the SFU's own media addresses, to which the relay guard
// lets relayed media through: its one UDP port on every address it
// announces, and on the machine's own (behind 1:1 NAT the public address
// is not the machine's).
func mediaAddrs(m sfu.Config) ([]netip.AddrPort, error) {
	var ips []netip.Addr
	if m.LoopbackOnly {
		ips = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
	} else {
		for _, p := range m.PublicIPs {
			ip, err := netip.ParseAddr(p)
			if err != nil {
				return nil, fmt.Errorf("public IP %q: %w", p, err)
			}
			ips = append(ips, ip)
		}
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
					ips = append(ips, ip.Unmap())
				}
			}
		}
	}
	out := make([]netip.AddrPort, 0, len(ips))
	for _, ip := range ips {
		out = append(out, netip.AddrPortFrom(ip, uint16(m.UDPPort)))
	}
	return out, nil
}

// startRelay starts TURN for tc; overTLS (nil without HTTPS) is the
// listener of TURN connections on the HTTPS port, tlsPort that port.
func startRelay(tc TURNConfig, media sfu.Config, overTLS net.Listener, tlsPort int, cfg *Config) (*relay, error) {
	sc := tc.Server
	own, err := mediaAddrs(media)
	if err != nil {
		return nil, err
	}
	sc.Own = append(slices.Clip(sc.Own), own...)
	if sc.Log == nil {
		sc.Log = cfg.Log
	}
	srv, err := turn.New(sc)
	if err != nil {
		return nil, err
	}
	r := &relay{srv: srv}
	if r.udp, err = net.ListenPacket("udp", tc.Addr); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("listen for TURN over UDP: %w", err)
	}
	if r.tcp, err = net.Listen("tcp", tc.Addr); err != nil {
		_ = r.udp.Close()
		_ = srv.Close()
		return nil, fmt.Errorf("listen for TURN over TCP: %w", err)
	}
	port := r.udp.LocalAddr().(*net.UDPAddr).Port
	tcpPort := r.tcp.Addr().(*net.TCPAddr).Port
	host := tc.Host
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() {
		host = "[" + host + "]"
	}
	r.urls = []string{
		"turn:" + host + ":" + strconv.Itoa(port) + "?transport=udp",
		"turn:" + host + ":" + strconv.Itoa(tcpPort) + "?transport=tcp",
	}
	r.serve(func() error { return srv.ServeUDP(r.udp) })
	r.serve(func() error { return srv.ServeTCP(r.tcp) })
	if overTLS != nil {
		r.urls = append(r.urls, "turns:"+host+":"+strconv.Itoa(tlsPort)+"?transport=tcp")
		r.serve(func() error { return srv.ServeTCP(overTLS) })
	}
	return r, nil
}

func (r *relay) serve(f func() error) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		_ = f() // ends with Close
	}()
}

// ICEServers implements session.Relay: fresh credentials for participant,
// made on every joined (resume included), so a meeting longer than their
// lifetime renews them.
func (r *relay) ICEServers(participant string) []signal.ICEServer {
	user, pass := r.srv.Credentials(participant, time.Now())
	return []signal.ICEServer{{URLs: r.urls, Username: user, Credential: pass}}
}

// End implements session.Relay: the participant left, its allocations end
// and its credentials are refused from now on.
func (r *relay) End(participant string) { r.srv.EndUser(participant) }

// URLs are the TURN URLs browsers get.
func (r *relay) URLs() []string { return r.urls }

func (r *relay) close() error {
	err := r.srv.Close()
	r.wg.Wait()
	if errors.Is(err, turn.ErrClosed) {
		return nil
	}
	return err
}
