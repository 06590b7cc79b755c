package gpu

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/omtx-hub/omtx-hub/onnxmodel"
)

// TestONNXModelEncoding lets ONNX Runtime judge the hand-written protobuf
// encoding of package onnxmodel: a graph that uses every attribute type it
// can write must load and compute the expected values.
func TestONNXModelEncoding(t *testing.T) {
	require.NoError(t, initORT(ortLibrary(t), slog.New(slog.NewTextHandler(io.Discard, nil))))

	t.Run("every attribute type", func(t *testing.T) {
		o := onnxmodel.NewNode
		g := onnxmodel.Graph{
			Name: "attrs",
			Nodes: []onnxmodel.Node{
				o("c_floats", "Constant", nil, []string{"cf"}, onnxmodel.FloatsAttr("value_floats", 1, 2)),
				o("c_float", "Constant", nil, []string{"half"}, onnxmodel.FloatAttr("value_float", 0.5)),
				o("c_ints", "Constant", nil, []string{"pads"}, onnxmodel.IntsAttr("value_ints", 0, 0, 0, 1)),
				o("c_int", "Constant", nil, []string{"three"}, onnxmodel.IntAttr("value_int", 3)),
				o("c_hundred", "Constant", nil, []string{"hundred"}, onnxmodel.IntsAttr("value_ints", 100)),
				o("add_int", "Add", []string{"three", "hundred"}, []string{"k"}),
				o("c_tensor", "Constant", nil, []string{"ct"}, onnxmodel.TensorAttr("value", onnxmodel.FloatTensor("", []int64{2}, []float32{10, 20}))),
				o("add", "Add", []string{"x", "cf"}, []string{"y1"}),
				o("mul", "Mul", []string{"y1", "half"}, []string{"y2"}),
				o("sub", "Sub", []string{"y2", "ct"}, []string{"y3"}),
				o("leaky", "LeakyRelu", []string{"y3"}, []string{"y4"}, onnxmodel.FloatAttr("alpha", 0.1)),
				o("pad", "Pad", []string{"y4", "pads"}, []string{"y5"}, onnxmodel.StringAttr("mode", "edge")),
				o("transpose", "Transpose", []string{"y5"}, []string{"y"}, onnxmodel.IntsAttr("perm", 1, 0)),
			},
			Inputs: []onnxmodel.ValueInfo{onnxmodel.TensorInfo("x", onnxmodel.Float, onnxmodel.Symbolic("batch"), onnxmodel.Fixed(2))},
			Outputs: []onnxmodel.ValueInfo{
				onnxmodel.TensorInfo("y", onnxmodel.Float, onnxmodel.Fixed(3), onnxmodel.Symbolic("batch")),
				onnxmodel.TensorInfo("k", onnxmodel.Int64, onnxmodel.Fixed(1)),
			},
		}
		m := onnxmodel.NewModel("omtx-test", g)
		require.NoError(t, m.Validate())
		path := filepath.Join(t.TempDir(), "attrs.onnx")
		require.NoError(t, os.WriteFile(path, m.Marshal(), 0o644))

		sess, err := ort.NewDynamicAdvancedSession(path, []string{"x"}, []string{"y", "k"}, nil)
		require.NoError(t, err)
		defer sess.Destroy()
		x, err := ort.NewTensor(ort.NewShape(2, 2), []float32{1, -1, 0, 4})
		require.NoError(t, err)
		defer x.Destroy()
		outs := []ort.Value{nil, nil}
		require.NoError(t, sess.Run([]ort.Value{x}, outs))
		defer outs[0].Destroy()
		defer outs[1].Destroy()

		// x+[1,2] = [[2,1],[1,6]]; ×0.5 = [[1,.5],[.5,3]]; −[10,20] =
		// [[−9,−19.5],[−9.5,−17]]; LeakyRelu(0.1); edge-pad one column;
		// transpose.
		y := outs[0].(*ort.Tensor[float32])
		require.Equal(t, ort.NewShape(3, 2), y.GetShape())
		want := []float32{-0.9, -0.95, -1.95, -1.7, -1.95, -1.7}
		for i, v := range y.GetData() {
			require.InDelta(t, want[i], v, 1e-6, i)
		}
		k := outs[1].(*ort.Tensor[int64])
		require.Equal(t, []int64{103}, k.GetData(), "scalar 3 from value_int plus [100]")
	})

	t.Run("shipped model metadata and shapes", func(t *testing.T) {
		path := filepath.Join(shippedBundle, "model.onnx")
		md, err := ort.GetModelMetadata(path)
		require.NoError(t, err)
		defer md.Destroy()
		producer, err := md.GetProducerName()
		require.NoError(t, err)
		require.Equal(t, "omtx-hub/cmd/genbaseline", producer)
		name, ok, err := md.LookupCustomMetadataMap("name")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "descriptor-baseline-v1", name)
		boltz, _, err := md.LookupCustomMetadataMap("is_boltz2")
		require.NoError(t, err)
		require.Equal(t, "false", boltz)
		version, err := md.GetVersion()
		require.NoError(t, err)
		require.Equal(t, int64(1), version)

		ins, outs, err := ort.GetInputOutputInfo(path)
		require.NoError(t, err)
		require.Len(t, ins, 1)
		require.Equal(t, "features", ins[0].Name)
		require.Equal(t, ort.NewShape(-1, 6), ins[0].Dimensions, "symbolic batch dimension")
		var names []string
		for _, o := range outs {
			names = append(names, o.Name)
			require.Equal(t, ort.NewShape(-1, 1), o.Dimensions)
		}
		require.Equal(t, []string{OutAffinity, OutProbability, OutConfidence}, names)
	})
}
