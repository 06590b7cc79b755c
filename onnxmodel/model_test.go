package onnxmodel

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// field is one decoded protobuf field.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // varint or fixed32 value
	b   []byte // bytes value
}

// decode splits a message into its fields, failing the test on malformed input.
func decode(t *testing.T, b []byte) []field {
	t.Helper()
	var fs []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		require.GreaterOrEqual(t, n, 0, "bad tag")
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("unexpected wire type %d", typ)
		}
		require.GreaterOrEqual(t, n, 0, "bad value of field %d", num)
		b = b[n:]
		fs = append(fs, f)
	}
	return fs
}

func pick(fs []field, num protowire.Number) []field {
	var out []field
	for _, f := range fs {
		if f.num == num {
			out = append(out, f)
		}
	}
	return out
}

func tinyModel() *Model {
	g := Graph{
		Name: "tiny",
		Nodes: []Node{
			NewNode("mm", "MatMul", []string{"x", "w"}, []string{"xw"}),
			NewNode("add", "Add", []string{"xw", "b"}, []string{"y"}),
			NewNode("gemm", "Gemm", []string{"x", "w", "b"}, []string{"z"}, FloatAttr("alpha", 2), IntAttr("transB", 0)),
		},
		Initializers: []Tensor{
			FloatTensor("w", []int64{2, 1}, []float32{0.5, -1}),
			FloatTensor("b", []int64{1}, []float32{3}),
		},
		Inputs:  []ValueInfo{TensorInfo("x", Float, Symbolic("batch"), Fixed(2))},
		Outputs: []ValueInfo{TensorInfo("y", Float, Symbolic("batch"), Fixed(1)), TensorInfo("z", Float, Symbolic("batch"), Fixed(1))},
	}
	m := NewModel("omtx-test", g)
	m.Metadata = []MetadataEntry{{"k", "v"}}
	return m
}

func TestMarshal(t *testing.T) {
	t.Run("model fields", func(t *testing.T) {
		m := tinyModel()
		require.NoError(t, m.Validate())
		fs := decode(t, m.Marshal())
		require.Equal(t, uint64(8), pick(fs, modelIRVersion)[0].v)
		require.Equal(t, "omtx-test", string(pick(fs, modelProducerName)[0].b))

		op := decode(t, pick(fs, modelOpsetImport)[0].b)
		require.Equal(t, "", string(pick(op, opsetDomain)[0].b))
		require.Equal(t, uint64(17), pick(op, opsetVersion)[0].v)

		md := decode(t, pick(fs, modelMetadataProps)[0].b)
		require.Equal(t, "k", string(pick(md, entryKey)[0].b))
		require.Equal(t, "v", string(pick(md, entryValue)[0].b))
	})

	t.Run("graph, nodes and attributes", func(t *testing.T) {
		g := decode(t, pick(decode(t, tinyModel().Marshal()), modelGraph)[0].b)
		require.Equal(t, "tiny", string(pick(g, graphName)[0].b))
		nodes := pick(g, graphNode)
		require.Len(t, nodes, 3)
		n0 := decode(t, nodes[0].b)
		require.Equal(t, "MatMul", string(pick(n0, nodeOpType)[0].b))
		ins := pick(n0, nodeInput)
		require.Equal(t, "x", string(ins[0].b))
		require.Equal(t, "w", string(ins[1].b))

		attrs := pick(decode(t, nodes[2].b), nodeAttribute)
		require.Len(t, attrs, 2)
		alpha := decode(t, attrs[0].b)
		require.Equal(t, "alpha", string(pick(alpha, attrName)[0].b))
		require.Equal(t, protowire.Fixed32Type, pick(alpha, attrF)[0].typ)
		require.Equal(t, float32(2), math.Float32frombits(uint32(pick(alpha, attrF)[0].v)))
		require.Equal(t, uint64(AttrFloat), pick(alpha, attrType)[0].v)
		transB := decode(t, attrs[1].b)
		require.Len(t, pick(transB, attrI), 1, "an INT attribute of value 0 is still written")
		require.Equal(t, uint64(AttrInt), pick(transB, attrType)[0].v)
	})

	t.Run("initializer tensor", func(t *testing.T) {
		g := decode(t, pick(decode(t, tinyModel().Marshal()), modelGraph)[0].b)
		w := decode(t, pick(g, graphInitializer)[0].b)
		dims := pick(w, tensorDims)
		require.Len(t, dims, 2, "dims are written unpacked")
		require.Equal(t, uint64(2), dims[0].v)
		require.Equal(t, uint64(1), dims[1].v)
		require.Equal(t, uint64(Float), pick(w, tensorDataType)[0].v)
		require.Equal(t, "w", string(pick(w, tensorName)[0].b))
		packed := pick(w, tensorFloatData)[0].b
		require.Len(t, packed, 8)
		v0, _ := protowire.ConsumeFixed32(packed)
		v1, _ := protowire.ConsumeFixed32(packed[4:])
		require.Equal(t, []float32{0.5, -1}, []float32{math.Float32frombits(v0), math.Float32frombits(v1)})
	})

	t.Run("symbolic batch dimension", func(t *testing.T) {
		g := decode(t, pick(decode(t, tinyModel().Marshal()), modelGraph)[0].b)
		in := decode(t, pick(g, graphInput)[0].b)
		require.Equal(t, "x", string(pick(in, valueInfoName)[0].b))
		tt := decode(t, pick(decode(t, pick(in, valueInfoType)[0].b), typeTensorType)[0].b)
		require.Equal(t, uint64(Float), pick(tt, tensorElemType)[0].v)
		dims := pick(decode(t, pick(tt, tensorShape)[0].b), shapeDim)
		require.Len(t, dims, 2)
		require.Equal(t, "batch", string(pick(decode(t, dims[0].b), dimParam)[0].b))
		require.Equal(t, uint64(2), pick(decode(t, dims[1].b), dimValue)[0].v)
	})

	t.Run("int64 tensor and list attributes", func(t *testing.T) {
		a := TensorAttr("value", Int64Tensor("", []int64{3}, []int64{1, -1, 300}))
		require.NoError(t, a.validate())
		tb := decode(t, pick(decode(t, a.marshal()), attrT)[0].b)
		packed := pick(tb, tensorInt64Data)[0].b
		var got []int64
		for len(packed) > 0 {
			v, n := protowire.ConsumeVarint(packed)
			got = append(got, int64(v))
			packed = packed[n:]
		}
		require.Equal(t, []int64{1, -1, 300}, got)

		ia, fa, sa := IntsAttr("axes", 0, 1), FloatsAttr("scales", 1, 2, 3), StringAttr("mode", "linear")
		ints := decode(t, ia.marshal())
		require.Len(t, pick(ints, attrInts), 2)
		floats := decode(t, fa.marshal())
		require.Len(t, pick(floats, attrFloats), 3)
		s := decode(t, sa.marshal())
		require.Equal(t, "linear", string(pick(s, attrS)[0].b))
	})

	t.Run("deterministic", func(t *testing.T) {
		require.True(t, bytes.Equal(tinyModel().Marshal(), tinyModel().Marshal()))
	})
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m *Model)
		want   string
	}{
		{"short tensor data", func(m *Model) { m.Graph.Initializers[0].FloatData = []float32{1} }, "holds 2 elements, data has 1"},
		{"undefined node input", func(m *Model) { m.Graph.Nodes[0].Inputs[1] = "nope" }, `uses "nope" before it is defined`},
		{"unproduced output", func(m *Model) { m.Graph.Outputs[0].Name = "q" }, `output "q" is not produced`},
		{"duplicate name", func(m *Model) { m.Graph.Initializers[1].Name = "w" }, `"w" already defined`},
		{"no opset", func(m *Model) { m.Opsets = nil }, "no opset_import"},
		{"missing op type", func(m *Model) { m.Graph.Nodes[1].OpType = "" }, "has no op_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := tinyModel()
			c.mutate(m)
			require.ErrorContains(t, m.Validate(), c.want)
		})
	}
}
