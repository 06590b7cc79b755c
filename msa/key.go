package msa

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Key is the hex SHA-256 of the upper-cased sequence alone. It names a
// sequence (in logs); the cache is keyed by KeySpec.CacheObject, which
// also names how the MSA was computed.
func Key(sequence string) string {
	sum := sha256.Sum256([]byte(strings.ToUpper(sequence)))
	return hex.EncodeToString(sum[:])
}

// CacheObject is "msa/" + Key(sequence) + ".a3m", the cache object of
// releases that keyed MSAs by sequence alone. Nothing writes it now; see
// KeySpec.CacheObject.
func CacheObject(sequence string) string {
	return "msa/" + Key(sequence) + ".a3m"
}

// KeySpec is everything besides the sequence that decides which alignment
// an MSA server returns, so that switching any of it computes a new MSA
// rather than reusing one made another way (whether it is paired, the
// API's /ticket/pair for heteromers, or unpaired, /ticket/msa, is which
// key names it: Key or PairedKey):
//   - ServerURL: which server (a local ColabFold MMseqs2 server and
//     api.colabfold.com search different database snapshots);
//   - UseEnv: mode "env" (UniRef plus the environmental databases) or
//     "all" (UniRef only), as the ColabFold API names its modes;
//   - DBVersion: the server's database version, which the API does not
//     report, so the operator states it (OMTX_MSA_DB_VERSION) and changes
//     it when the server's databases change.
type KeySpec struct {
	ServerURL string
	UseEnv    bool
	DBVersion string
}

// KeySpec is the key spec of the MSAs c computes (unpaired: Compute uses
// /ticket/msa), for a server whose databases are at dbVersion.
func (c *Client) KeySpec(dbVersion string) KeySpec {
	return KeySpec{ServerURL: c.BaseURL, UseEnv: c.UseEnv, DBVersion: dbVersion}
}

// Key is the cache key of sequence's MSA computed as s says: the hex
// SHA-256 of a versioned, line-per-part text of the upper-cased sequence
// and s's parts. The server URL is trimmed of spaces and trailing slashes,
// so one server written two ways is one key; nothing else is normalised,
// so callers pass the canonical sequence (validate.ProteinSequence's
// output).
func (s KeySpec) Key(sequence string) string {
	return s.key([]string{sequence}, -1, false)
}

// key is the hex SHA-256 of the versioned, line-per-part text of an MSA's
// sequences, its chain's place among them (for a paired MSA; -1: none),
// whether it is paired, and s's parts.
func (s KeySpec) key(sequences []string, chain int, pairing bool) string {
	var b strings.Builder
	b.WriteString("omtx-msa-key/v2\n")
	for _, seq := range sequences {
		b.WriteString("sequence=" + strings.ToUpper(seq) + "\n")
	}
	if chain >= 0 {
		b.WriteString("chain=" + strconv.Itoa(chain) + "\n")
	}
	b.WriteString("server=" + strings.TrimRight(strings.TrimSpace(s.ServerURL), "/") + "\n")
	b.WriteString("pairing=" + strconv.FormatBool(pairing) + "\n")
	b.WriteString("env=" + strconv.FormatBool(s.UseEnv) + "\n")
	b.WriteString("db=" + strings.TrimSpace(s.DBVersion) + "\n")
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// CacheObject is the GCS object name of sequence's MSA computed as s says:
// "msa/v2/" + s.Key(sequence) + ".a3m".
func (s KeySpec) CacheObject(sequence string) string {
	return "msa/v2/" + s.Key(sequence) + ".a3m"
}

// ServerKeySpec is the KeySpec of the deployment's MSA server
// (OMTX_MSA_URL, OMTX_MSA_DB_VERSION) as the workers ask it: with the
// environmental databases, as ColabFold's own clients and Boltz's do. The
// workers' client and the API's cache lookups both take it from here.
func ServerKeySpec(serverURL, dbVersion string) KeySpec {
	return KeySpec{ServerURL: serverURL, UseEnv: true, DBVersion: dbVersion}
}
