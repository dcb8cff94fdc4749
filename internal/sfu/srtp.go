package sfu

import "github.com/pion/dtls/v3"

func dtlsProfiles() []dtls.SRTPProtectionProfile {
	return []dtls.SRTPProtectionProfile{
		dtls.SRTP_AEAD_AES_128_GCM,
		dtls.SRTP_AEAD_AES_256_GCM,
		dtls.SRTP_AES128_CM_HMAC_SHA1_80,
	}
}
