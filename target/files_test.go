package target

import (
	"errors"
	"reflect"
	"testing"
)

func TestFilesAndCheckFiles(t *testing.T) {
	t.Parallel()
	tg := goldenTarget(t, `{"chains":[{"type":"protein","id":"A","sequence":"MKT","msa":{"mode":"empty"}},
		{"type":"protein","id":"B","sequence":"MKTA","msa":{"mode":"file","file":"b.a3m"}}],
		"templates":[{"pdb":"t.pdb"}]}`)
	want := []FileRef{
		{Field: "chains[1].msa.file", Kind: FileMSA, Name: "b.a3m"},
		{Field: "templates[0].pdb", Kind: FileTemplate, Name: "t.pdb"},
	}
	if got := tg.Files(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if err := CheckFiles(tg, []string{"b.a3m", "t.pdb"}); err != nil {
		t.Errorf("all sent: %v", err)
	}
	err := CheckFiles(tg, []string{"b.a3m"})
	var e *Error
	if !errors.As(err, &e) || e.Field != "templates[0].pdb" || e.Rule != RuleFile {
		t.Errorf("template not sent: got %v", err)
	}
}
