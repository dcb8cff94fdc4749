package turn

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	pionturn "github.com/pion/turn/v5"
)

// Credentials are the TURN REST scheme (draft-uberti-behave-turn-rest, as
// coturn's use-auth-secret speaks it): username "expiry:user", with expiry
// in Unix seconds, and password base64(HMAC-SHA1(secret, username)). The
// server keeps no list of them: it checks the signature and the expiry,
// so nothing is stored per participant and no static password exists.

// Credentials makes a credential for user (a participant id; it may not be
// empty), valid from now for Config.CredentialTTL. Making one lifts an
// EndUser of the same user.
func (s *Server) Credentials(user string, now time.Time) (username, password string) {
	s.reg.unrevoke(user)
	username = strconv.FormatInt(now.Add(s.cfg.CredentialTTL).Unix(), 10) + ":" + user
	return username, sign(s.cfg.Secret, username)
}

// sign is the REST scheme's password for username.
func sign(secret []byte, username string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// parseUsername splits "expiry:user".
func parseUsername(username string) (expiry time.Time, user string, ok bool) {
	ts, user, found := strings.Cut(username, ":")
	if !found || user == "" {
		return time.Time{}, "", false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, "", false
	}
	return time.Unix(sec, 0), user, true
}

// authenticate is pion's AuthHandler: it refuses another realm, a
// malformed or expired username and a user who left, and otherwise
// returns the key that the request's MESSAGE-INTEGRITY must match; pion
// checks it, so a forged password fails there. The user id it returns is
// what quotas and EndUser go by.
func (s *Server) authenticate(ra *pionturn.RequestAttributes) (userID string, key []byte, ok bool) {
	// Pion computes the key with whatever realm the request names; without
	// this check any realm would do.
	if ra.Realm != s.cfg.Realm {
		s.stats.authFailures.Add(1)
		return "", nil, false
	}
	expiry, user, ok := parseUsername(ra.Username)
	if !ok || !time.Now().Before(expiry) || s.reg.revokedUser(user) {
		s.stats.authFailures.Add(1)
		return "", nil, false
	}
	return user, pionturn.GenerateAuthKey(ra.Username, ra.Realm, sign(s.cfg.Secret, ra.Username)), true
}
