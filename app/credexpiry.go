package app

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/omtx-hub/omtx-hub/metrics"
)

// jwtExpiry exports the exp claim of token (a JWT) as
// omtx_temporal_jwt_expiry_timestamp_seconds; the alert
// TemporalJWTExpiresSoon reads it. A token that is not a JWT with an exp
// (a Temporal Cloud key of another form) leaves the gauge unset.
func jwtExpiry(token string) {
	if exp, err := JWTExpiry(token); err == nil {
		metrics.TemporalJWTExpiry.Set(float64(exp))
	}
}

// JWTExpiry reads the exp claim (seconds since the epoch) of a JWT's
// payload (RFC 7519 section 4.1.4), without verifying the signature: it is
// only watched, never trusted.
func JWTExpiry(token string) (int64, error) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return 0, errors.New("not a JWT: want three dot-separated parts")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return 0, errors.New("not a JWT: payload is not base64url")
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return 0, errors.New("not a JWT: payload is not a JSON object")
	}
	if claims.Exp == nil {
		return 0, errors.New("the JWT has no exp claim")
	}
	f, err := claims.Exp.Float64()
	if err != nil {
		return 0, errors.New("the JWT's exp is not a number")
	}
	return int64(f), nil
}

// certExpiry exports the leaf's notAfter as
// omtx_temporal_client_cert_expiry_timestamp_seconds; the alert
// TemporalClientCertExpiresSoon reads it.
func certExpiry(c *tls.Certificate) {
	if c == nil || len(c.Certificate) == 0 {
		return
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return
	}
	metrics.TemporalCertExpiry.Set(float64(leaf.NotAfter.Unix()))
}
