package target

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Boltz reads its input with PyYAML (yaml.safe_load, src/boltz/data/parse/yaml.py L65),
// which resolves plain scalars by YAML 1.1's implicit types: "ON" is a
// boolean there and "0123" an octal integer, where YAML 1.2 parsers read
// strings. The expressions below are PyYAML's (yaml/resolver.py), so a
// field is read as the type Boltz sees; testdata/pyyaml_scalars.tsv holds
// PyYAML's own verdicts (TestPyKindAgreesWithPyYAML).
var (
	pyBool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	pyFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	pyInt   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	pyNull  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	pyTime  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// PyYAML's type names for a scalar.
const (
	pyStr   = "str"
	pyInteg = "int"
	pyFlt   = "float"
	pyBoo   = "bool"
	pyNul   = "null"
	pyStamp = "timestamp"
)

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// pyKind is the type PyYAML gives a node.
func pyKind(n *yaml.Node) string {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.DocumentNode:
		return "document"
	}
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.Tag {
		case "!!str":
			return pyStr
		case "!!int":
			return pyInteg
		case "!!float":
			return pyFlt
		case "!!bool":
			return pyBoo
		case "!!null":
			return pyNul
		}
		return n.Tag
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return pyStr
	}
	v := n.Value
	switch {
	case pyBool.MatchString(v):
		return pyBoo
	case pyInt.MatchString(v):
		return pyInteg
	case pyFloat.MatchString(v):
		return pyFlt
	case pyNull.MatchString(v):
		return pyNul
	case pyTime.MatchString(v):
		return pyStamp
	}
	return pyStr
}

func wrongType(field string, n *yaml.Node, want string) *Error {
	k := pyKind(n)
	if k == pyStr || k == "mapping" || k == "list" {
		return refuse(field, RuleYAML, "must be %s, not a %s", want, k)
	}
	return refuse(field, RuleYAML, "must be %s; YAML (as Boltz reads it) takes %q as a %s, quote it if it is a name",
		want, deref(n).Value, k)
}

func yamlString(field string, n *yaml.Node) (string, error) {
	if pyKind(n) != pyStr {
		return "", wrongType(field, n, "a string")
	}
	return deref(n).Value, nil
}

func yamlInt(field string, n *yaml.Node) (int, error) {
	if pyKind(n) != pyInteg {
		return 0, wrongType(field, n, "an integer")
	}
	v := strings.ReplaceAll(deref(n).Value, "_", "")
	if strings.Contains(v, ":") {
		return 0, refuse(field, RuleYAML, "base-60 integer %q is not accepted", v)
	}
	// PyYAML's "0755" is octal; strconv's base 0 reads it so too.
	i, err := strconv.ParseInt(v, 0, 32)
	if err != nil {
		return 0, refuse(field, RuleYAML, "integer %q is out of range", v)
	}
	return int(i), nil
}

func yamlNumber(field string, n *yaml.Node) (float64, error) {
	switch pyKind(n) {
	case pyInteg:
		i, err := yamlInt(field, n)
		return float64(i), err
	case pyFlt:
		v := strings.ReplaceAll(deref(n).Value, "_", "")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, refuse(field, RuleYAML, "%q is not a finite number", v)
		}
		return f, nil
	}
	return 0, wrongType(field, n, "a number")
}

func yamlBool(field string, n *yaml.Node) (bool, error) {
	if pyKind(n) != pyBoo {
		return false, wrongType(field, n, "true or false")
	}
	switch deref(n).Value {
	case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, nil
	}
	return false, nil
}

func yamlList(field string, n *yaml.Node) ([]*yaml.Node, error) {
	if pyKind(n) != "list" {
		return nil, wrongType(field, n, "a list")
	}
	return deref(n).Content, nil
}

// yamlIDs reads "A" or [A, B].
func yamlIDs(field string, n *yaml.Node) (ChainIDs, error) {
	if pyKind(n) == "list" {
		items := deref(n).Content
		if len(items) == 0 {
			return nil, refuse(field, RuleChainID, "the list of ids is empty")
		}
		var ids ChainIDs
		for j, it := range items {
			id, err := yamlString(fmt.Sprintf("%s[%d]", field, j), it)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, nil
	}
	// schema.py L1040-1043 and L1094-1097 read an id as a string or a
	// list; anything else fails there.
	id, err := yamlString(field, n)
	if err != nil {
		return nil, err
	}
	return ChainIDs{id}, nil
}

// mapping is a YAML mapping read key by key, refusing keys not read.
type mapping struct {
	field string
	keys  []string
	vals  map[string]*yaml.Node
	used  map[string]bool
}

func yamlMapping(field string, n *yaml.Node) (*mapping, error) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, wrongType(field, n, "a mapping")
	}
	m := &mapping{field: field, vals: map[string]*yaml.Node{}, used: map[string]bool{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			return nil, refuse(field, RuleYAML, "a key must be a name")
		}
		if k.Value == "<<" {
			return nil, refuse(field, RuleYAML, "merge keys (<<) are not accepted")
		}
		if _, dup := m.vals[k.Value]; dup {
			// PyYAML keeps the last of duplicate keys, silently.
			return nil, refuse(field+"."+k.Value, RuleYAML, "is given twice")
		}
		m.keys = append(m.keys, k.Value)
		m.vals[k.Value] = n.Content[i+1]
	}
	return m, nil
}

// get returns the value of key, or nil.
func (m *mapping) get(key string) *yaml.Node {
	m.used[key] = true
	return m.vals[key]
}

// rest refuses a key that was not read: Boltz ignores keys it does not
// know, so a misspelt "modification" would silently do nothing.
func (m *mapping) rest() error {
	for _, k := range m.keys {
		if !m.used[k] {
			return refuse(m.field+"."+k, RuleUnknownField, "is not a field Boltz reads here")
		}
	}
	return nil
}

// single reads a mapping of exactly one key, as Boltz's entries are
// ("- protein: {...}"). schema.py L1020 and L1053 take the first key and
// ignore any other.
func single(field string, n *yaml.Node) (string, *yaml.Node, error) {
	m, err := yamlMapping(field, n)
	if err != nil {
		return "", nil, err
	}
	if len(m.keys) != 1 {
		return "", nil, refuse(field, RuleYAML, "an entry has exactly one key, got %d", len(m.keys))
	}
	return m.keys[0], m.vals[m.keys[0]], nil
}
