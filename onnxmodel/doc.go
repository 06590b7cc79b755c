// Package onnxmodel builds ONNX models in pure Go and serialises them as
// ModelProto bytes, so that small hand-specified models (such as the
// descriptor baseline in models/) can be generated reproducibly without
// Python, generated protobuf code or a third-party ONNX package.
//
// The wire format is written field by field with
// google.golang.org/protobuf/encoding/protowire, using the field numbers of
// onnx.proto (onnx/onnx, proto2 syntax):
//
//	ModelProto          ir_version=1 producer_name=2 producer_version=3 domain=4
//	                    model_version=5 doc_string=6 graph=7 opset_import=8
//	                    metadata_props=14
//	OperatorSetIdProto  domain=1 version=2
//	GraphProto          node=1 name=2 initializer=5 doc_string=10 input=11 output=12
//	NodeProto           input=1 output=2 name=3 op_type=4 attribute=5 doc_string=6 domain=7
//	AttributeProto      name=1 f=2 i=3 s=4 t=5 floats=7 ints=8 type=20
//	TensorProto         dims=1 data_type=2 float_data=4 (packed) int64_data=7 (packed)
//	                    name=8 doc_string=12
//	ValueInfoProto      name=1 type=2 doc_string=3
//	TypeProto           tensor_type=1; TypeProto.Tensor elem_type=1 shape=2
//	TensorShapeProto    dim=1; Dimension dim_value=1 dim_param=2
//	StringStringEntry   key=1 value=2
//
// Fields are written in ascending field-number order and repeated fields in
// slice order, so Marshal returns identical bytes for identical models. As
// the reference serialiser does for proto2, dims and the attribute lists
// floats/ints are written unpacked; float_data and int64_data are declared
// [packed = true] in onnx.proto and are written packed.
package onnxmodel
