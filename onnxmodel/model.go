package onnxmodel

import (
	"errors"
	"fmt"
	"math"
)

// Defaults used by NewModel: IR version 8 (ONNX 1.10+) and the default-domain
// opset 17 (ONNX 1.12), both supported by ONNX Runtime 1.14 and later.
const (
	DefaultIRVersion = 8
	DefaultOpset     = 17
)

// DataType is a TensorProto.DataType.
type DataType int32

// Tensor element types this package can write.
const (
	Float DataType = 1 // TensorProto.FLOAT
	Int64 DataType = 7 // TensorProto.INT64
)

func (d DataType) String() string {
	switch d {
	case Float:
		return "float32"
	case Int64:
		return "int64"
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// AttributeType is an AttributeProto.AttributeType.
type AttributeType int32

// Attribute types this package can write.
const (
	AttrFloat   AttributeType = 1 // FLOAT
	AttrInt     AttributeType = 2 // INT
	AttrString  AttributeType = 3 // STRING
	AttrTensor  AttributeType = 4 // TENSOR
	AttrFloats  AttributeType = 6 // FLOATS
	AttrInts    AttributeType = 7 // INTS
	attrMaxKind               = AttrInts
)

// Model is an ONNX ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Graph           Graph
	Opsets          []OpsetID
	// Metadata is written as metadata_props in slice order.
	Metadata []MetadataEntry
}

// OpsetID is an OperatorSetIdProto; Domain "" is the default ONNX domain.
type OpsetID struct {
	Domain  string
	Version int64
}

// MetadataEntry is a StringStringEntryProto of ModelProto.metadata_props.
type MetadataEntry struct {
	Key, Value string
}

// Graph is a GraphProto. Nodes must be in topological order.
type Graph struct {
	Name         string
	DocString    string
	Nodes        []Node
	Initializers []Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
}

// Node is a NodeProto.
type Node struct {
	Name       string
	OpType     string
	Domain     string
	DocString  string
	Inputs     []string
	Outputs    []string
	Attributes []Attribute
}

// Attribute is an AttributeProto. Only the field matching Type is written.
type Attribute struct {
	Name   string
	Type   AttributeType
	F      float32
	I      int64
	S      []byte
	T      *Tensor
	Floats []float32
	Ints   []int64
}

// Tensor is a TensorProto holding its data inline (float_data or
// int64_data, according to DataType).
type Tensor struct {
	Name      string
	DocString string
	Dims      []int64
	DataType  DataType
	FloatData []float32
	Int64Data []int64
}

// ValueInfo is a ValueInfoProto of a tensor type.
type ValueInfo struct {
	Name      string
	DocString string
	ElemType  DataType
	Shape     []Dim
}

// Dim is one TensorShapeProto.Dimension: a fixed size, or a symbolic one
// (such as "batch") when Param is set.
type Dim struct {
	Value int64
	Param string
}

// NewModel returns a model of graph g with IR version 8, the default-domain
// opset 17 and the given producer name.
func NewModel(producer string, g Graph) *Model {
	return &Model{
		IRVersion:    DefaultIRVersion,
		ProducerName: producer,
		Opsets:       []OpsetID{{Domain: "", Version: DefaultOpset}},
		Graph:        g,
	}
}

// NewNode returns a default-domain node.
func NewNode(name, opType string, inputs, outputs []string, attrs ...Attribute) Node {
	return Node{Name: name, OpType: opType, Inputs: inputs, Outputs: outputs, Attributes: attrs}
}

// FloatTensor returns a float32 tensor of the given shape.
func FloatTensor(name string, dims []int64, data []float32) Tensor {
	return Tensor{Name: name, Dims: dims, DataType: Float, FloatData: data}
}

// Int64Tensor returns an int64 tensor of the given shape.
func Int64Tensor(name string, dims []int64, data []int64) Tensor {
	return Tensor{Name: name, Dims: dims, DataType: Int64, Int64Data: data}
}

// TensorInfo returns the value info of a tensor graph input or output.
func TensorInfo(name string, elem DataType, shape ...Dim) ValueInfo {
	return ValueInfo{Name: name, ElemType: elem, Shape: shape}
}

// Fixed returns a dimension of fixed size n.
func Fixed(n int64) Dim { return Dim{Value: n} }

// Symbolic returns a named dimension whose size is set at run time.
func Symbolic(name string) Dim { return Dim{Param: name} }

// FloatAttr returns a FLOAT attribute.
func FloatAttr(name string, f float32) Attribute {
	return Attribute{Name: name, Type: AttrFloat, F: f}
}

// IntAttr returns an INT attribute.
func IntAttr(name string, i int64) Attribute { return Attribute{Name: name, Type: AttrInt, I: i} }

// StringAttr returns a STRING attribute.
func StringAttr(name, s string) Attribute {
	return Attribute{Name: name, Type: AttrString, S: []byte(s)}
}

// TensorAttr returns a TENSOR attribute.
func TensorAttr(name string, t Tensor) Attribute {
	return Attribute{Name: name, Type: AttrTensor, T: &t}
}

// FloatsAttr returns a FLOATS attribute.
func FloatsAttr(name string, fs ...float32) Attribute {
	return Attribute{Name: name, Type: AttrFloats, Floats: fs}
}

// IntsAttr returns an INTS attribute.
func IntsAttr(name string, is ...int64) Attribute {
	return Attribute{Name: name, Type: AttrInts, Ints: is}
}

// Validate checks what ONNX Runtime would otherwise reject at load time
// with a less direct message: tensor data that does not fill its shape,
// names used before they are produced, duplicate names, and graph outputs
// that no node or input produces. It does not check operator semantics.
func (m *Model) Validate() error {
	if m.IRVersion <= 0 {
		return errors.New("model: ir_version must be positive")
	}
	if len(m.Opsets) == 0 {
		return errors.New("model: no opset_import")
	}
	g := &m.Graph
	defined := map[string]string{}
	define := func(name, what string) error {
		if name == "" {
			return fmt.Errorf("graph: %s has an empty name", what)
		}
		if prev, ok := defined[name]; ok {
			return fmt.Errorf("graph: %s %q already defined as %s", what, name, prev)
		}
		defined[name] = what
		return nil
	}
	for _, in := range g.Inputs {
		if err := in.validate(); err != nil {
			return fmt.Errorf("graph input: %w", err)
		}
		if err := define(in.Name, "input"); err != nil {
			return err
		}
	}
	for i := range g.Initializers {
		t := &g.Initializers[i]
		if err := t.validate(); err != nil {
			return fmt.Errorf("initializer %q: %w", t.Name, err)
		}
		if err := define(t.Name, "initializer"); err != nil {
			return err
		}
	}
	nodeNames := map[string]bool{}
	for i, n := range g.Nodes {
		label := fmt.Sprintf("node %d (%s %q)", i, n.OpType, n.Name)
		if n.OpType == "" {
			return fmt.Errorf("graph: %s has no op_type", label)
		}
		if n.Name != "" {
			if nodeNames[n.Name] {
				return fmt.Errorf("graph: duplicate node name %q", n.Name)
			}
			nodeNames[n.Name] = true
		}
		for _, in := range n.Inputs {
			if in == "" { // optional input left out
				continue
			}
			if _, ok := defined[in]; !ok {
				return fmt.Errorf("graph: %s uses %q before it is defined", label, in)
			}
		}
		for _, a := range n.Attributes {
			if err := a.validate(); err != nil {
				return fmt.Errorf("graph: %s: %w", label, err)
			}
		}
		for _, out := range n.Outputs {
			if err := define(out, "output of "+label); err != nil {
				return err
			}
		}
	}
	for _, out := range g.Outputs {
		if err := out.validate(); err != nil {
			return fmt.Errorf("graph output: %w", err)
		}
		if _, ok := defined[out.Name]; !ok {
			return fmt.Errorf("graph: output %q is not produced by any node", out.Name)
		}
	}
	return nil
}

func (v *ValueInfo) validate() error {
	if v.Name == "" {
		return errors.New("empty name")
	}
	if v.ElemType != Float && v.ElemType != Int64 {
		return fmt.Errorf("%q: unsupported element type %v", v.Name, v.ElemType)
	}
	for i, d := range v.Shape {
		if d.Param == "" && d.Value < 0 {
			return fmt.Errorf("%q: dimension %d is negative", v.Name, i)
		}
	}
	return nil
}

func (t *Tensor) validate() error {
	n := int64(1)
	for _, d := range t.Dims {
		if d < 0 {
			return fmt.Errorf("negative dimension %d", d)
		}
		if d > 0 && n > math.MaxInt64/d {
			return errors.New("shape overflows int64")
		}
		n *= d
	}
	var got int
	switch t.DataType {
	case Float:
		got = len(t.FloatData)
		if len(t.Int64Data) != 0 {
			return errors.New("float tensor has int64 data")
		}
	case Int64:
		got = len(t.Int64Data)
		if len(t.FloatData) != 0 {
			return errors.New("int64 tensor has float data")
		}
	default:
		return fmt.Errorf("unsupported data type %v", t.DataType)
	}
	if int64(got) != n {
		return fmt.Errorf("shape %v holds %d elements, data has %d", t.Dims, n, got)
	}
	return nil
}

func (a *Attribute) validate() error {
	if a.Name == "" {
		return errors.New("attribute with empty name")
	}
	if a.Type < AttrFloat || a.Type > attrMaxKind || a.Type == 5 {
		return fmt.Errorf("attribute %q: unsupported type %d", a.Name, a.Type)
	}
	if a.Type == AttrTensor {
		if a.T == nil {
			return fmt.Errorf("attribute %q: tensor attribute without tensor", a.Name)
		}
		if err := a.T.validate(); err != nil {
			return fmt.Errorf("attribute %q: %w", a.Name, err)
		}
	}
	return nil
}
