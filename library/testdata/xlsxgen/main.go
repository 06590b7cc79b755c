// Command xlsxgen writes library/testdata/compounds.xlsx, a small workbook
// shaped like one Excel saves: a shared-string table (with a rich-text
// entry), an inline string, numbers stored as Excel stores them (binary
// floats such as 0.30000000000000004), a formula with its cached value, a
// sparse row whose cells skip a column, a blank row, and a second sheet.
// It uses only the standard library, so the fixture can be rebuilt and
// read part by part:
//
//	go run ./library/testdata/xlsxgen > library/testdata/compounds.xlsx
package main

import (
	"archive/zip"
	"log"
	"os"
	"time"
)

var parts = []struct{ name, body string }{
	{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`},
	{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
	{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView activeTab="0"/></bookViews><sheets><sheet name="Compounds" sheetId="1" r:id="rId1"/><sheet name="Controls" sheetId="2" r:id="rId2"/></sheets></workbook>`},
	{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
	{"xl/sharedStrings.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="12" uniqueCount="11"><si><t>Compound ID</t></si><si><t>SMILES</t></si><si><t>MW</t></si><si><t>IC50 (µM)</t></si><si><t>Series</t></si><si><t>CA-001</t></si><si><t>CC(=O)Nc1nnc(s1)S(N)(=O)=O</t></si><si><t>sulfonamide</t></si><si><t>Oc1ccccc1</t></si><si><r><t>benz</t></r><r><rPr><b/></rPr><t xml:space="preserve">oic acid</t></r><rPh sb="0" eb="1"><t>ignored</t></rPh></si><si><t>NS(=O)(=O)c1ccc(cc1)C(=O)O</t></si></sst>`},
	{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:E6"/><sheetData>` +
		`<row r="1" spans="1:5"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c></row>` +
		`<row r="2" spans="1:5"><c r="A2" t="s"><v>5</v></c><c r="B2" t="s"><v>6</v></c><c r="C2"><v>222.25</v></c><c r="D2"><v>1.2E-2</v></c><c r="E2" t="s"><v>7</v></c></row>` +
		`<row r="3" spans="1:5"><c r="B3" t="s"><v>8</v></c><c r="C3"><v>94.11</v></c><c r="E3" t="s"><v>9</v></c></row>` +
		`<row r="4" spans="1:5"><c r="A4" t="inlineStr"><is><t>CA-003</t></is></c><c r="B4" t="inlineStr"><is><t>Cc1ccc(cc1)S(N)(=O)=O</t></is></c><c r="C4"><v>171.22</v></c><c r="D4"><v>0.30000000000000004</v></c><c r="E4" t="s"><v>7</v></c></row>` +
		`<row r="6" spans="1:5"><c r="A6" t="str"><f>"CA-"&amp;TEXT(5,"000")</f><v>CA-005</v></c><c r="B6" t="s"><v>10</v></c><c r="C6"><f>C2-21.05</f><v>201.2</v></c><c r="D6" t="b"><v>0</v></c><c r="E6" t="e"><v>#N/A</v></c></row>` +
		`</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>`},
	{"xl/worksheets/sheet2.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="2"><c r="B2" t="inlineStr"><is><t>Name</t></is></c><c r="C2" t="inlineStr"><is><t>Smiles</t></is></c></row><row r="3"><c r="B3" t="inlineStr"><is><t>ethanol</t></is></c><c r="C3" t="inlineStr"><is><t>CCO</t></is></c></row></sheetData></worksheet>`},
}

func main() {
	w := zip.NewWriter(os.Stdout)
	for _, p := range parts {
		f, err := w.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := f.Write([]byte(p.body)); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
}
