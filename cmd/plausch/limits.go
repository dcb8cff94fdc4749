package main

import (
	"flag"
	"fmt"
	"time"

	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/server"
	"plausch.dev/plausch/internal/source"
)

// limitFlags defines the flags of the per-source limits (what one address
// may take of the server) and returns what applies them to a config. In
// flags 0 means no limit, as for --max-meetings.
func limitFlags(fs *flag.FlagSet) func(*server.Config) error {
	proxies := fs.String("trusted-proxies", env("PLAUSCH_TRUSTED_PROXIES", "127.0.0.0/8,::1"),
		"comma-separated addresses or CIDR prefixes of your reverse proxies: from them the client's address is the right-most one in X-Forwarded-For that is not a proxy; a proxy that sends no X-Forwarded-For turns the per-source limits off for its connections; empty trusts nobody [PLAUSCH_TRUSTED_PROXIES]")
	conns := fs.Int("max-connections-per-source", envInt("PLAUSCH_MAX_CONNECTIONS_PER_SOURCE", server.DefaultMaxConnectionsPerSource),
		"signalling connections one address (an IPv6 /64) may hold open; 0 means no limit [PLAUSCH_MAX_CONNECTIONS_PER_SOURCE]")
	meetings := fs.Int("max-meetings-per-source", envInt("PLAUSCH_MAX_MEETINGS_PER_SOURCE", room.DefaultMaxMeetingsPerSource),
		"running meetings one address may have started; 0 means no limit [PLAUSCH_MAX_MEETINGS_PER_SOURCE]")
	newMeetings := fs.Int("new-meetings-per-source", envInt("PLAUSCH_NEW_MEETINGS_PER_SOURCE", room.DefaultNewMeetingsPerSource),
		"meetings one address may start a minute; 0 means no limit [PLAUSCH_NEW_MEETINGS_PER_SOURCE]")
	waiting := fs.Int("max-waiting", envInt("PLAUSCH_MAX_WAITING", room.DefaultMaxWaiting),
		"people waiting at one meeting's lobby; 0 means no limit [PLAUSCH_MAX_WAITING]")
	waitingPerSource := fs.Int("max-waiting-per-source", envInt("PLAUSCH_MAX_WAITING_PER_SOURCE", room.DefaultMaxWaitingPerSource),
		"of them, from one address; 0 means no limit [PLAUSCH_MAX_WAITING_PER_SOURCE]")
	lobbyTimeout := fs.Duration("lobby-timeout", envDuration("PLAUSCH_LOBBY_TIMEOUT", room.DefaultLobbyTimeout),
		"how long someone may wait at a lobby before being turned away; 0 means no limit [PLAUSCH_LOBBY_TIMEOUT]")
	pwSource := fs.Int("password-attempts-per-source", envInt("PLAUSCH_PASSWORD_ATTEMPTS_PER_SOURCE", room.DefaultPasswordAttemptsPerSource),
		"wrong passwords one address may send to one meeting a minute; beyond, its joins knock at the lobby; 0 means no limit [PLAUSCH_PASSWORD_ATTEMPTS_PER_SOURCE]")
	pwMeeting := fs.Int("password-attempts-per-meeting", envInt("PLAUSCH_PASSWORD_ATTEMPTS_PER_MEETING", room.DefaultPasswordAttemptsPerMeeting),
		"wrong passwords one meeting takes a minute from everyone together; beyond, all joins knock at the lobby; 0 means no limit [PLAUSCH_PASSWORD_ATTEMPTS_PER_MEETING]")
	lockout := fs.Duration("removal-lockout", envDuration("PLAUSCH_REMOVAL_LOCKOUT", room.DefaultRemovalLockout),
		"after a moderator removes someone, joins from their address to that meeting knock at the lobby for this long; 0 switches it off [PLAUSCH_REMOVAL_LOCKOUT]")
	return func(cfg *server.Config) error {
		p, err := source.ParsePrefixes(*proxies)
		if err != nil {
			return fmt.Errorf("bad -trusted-proxies: %w", err)
		}
		cfg.TrustedProxies = p
		cfg.MaxConnectionsPerSource = orOff(*conns)
		r := &cfg.Rooms
		r.MaxMeetingsPerSource, r.NewMeetingsPerSource = orOff(*meetings), orOff(*newMeetings)
		r.MaxWaiting, r.MaxWaitingPerSource = orOff(*waiting), orOff(*waitingPerSource)
		r.LobbyTimeout, r.RemovalLockout = orOff(*lobbyTimeout), orOff(*lockout)
		r.PasswordAttemptsPerSource, r.PasswordAttemptsPerMeeting = orOff(*pwSource), orOff(*pwMeeting)
		return nil
	}
}

// orOff maps a flag's 0 (no limit) to the configs' negative (off), whose
// 0 means the default.
func orOff[T int | time.Duration](v T) T {
	if v <= 0 {
		return -1
	}
	return v
}
