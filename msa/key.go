package msa

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Key is the cache key of a sequence: the lowercase hex SHA-256 of the
// upper-cased sequence. Nothing else is normalised, so callers pass the
// canonical sequence (validate.ProteinSequence's output).
func Key(sequence string) string {
	sum := sha256.Sum256([]byte(strings.ToUpper(sequence)))
	return hex.EncodeToString(sum[:])
}

// CacheObject is the GCS object name of a sequence's MSA:
// "msa/" + Key(sequence) + ".a3m".
func CacheObject(sequence string) string {
	return "msa/" + Key(sequence) + ".a3m"
}
