// gen.mjs writes the SD fixtures vendor_v2000.sdf and chembl_v3000.sdf
// with RDKit's molblock writers (@rdkit/rdkit, loaded from $RDKIT_DIR,
// default .tools/rdkit), then shapes them as exports are shaped: a vendor's
// program line, one record's charges moved into the atom block's charge
// column (ISIS-era exporters), one V3000 atom line continued with "-", and
// "> <field>" data items. From the repository root:
//
//	node library/testdata/sdfgen/gen.mjs vendor > library/testdata/vendor_v2000.sdf
//	node library/testdata/sdfgen/gen.mjs chembl > library/testdata/chembl_v3000.sdf
//
// The coordinates come from RDKit's set_new_coords, so another RDKit
// version may write other numbers; the structures stay the same.
import { createRequire } from "node:module";
import path from "node:path";
const require = createRequire(path.join(path.resolve(process.env.RDKIT_DIR || ".tools/rdkit"), "package.json"));
const RDKit = await require("@rdkit/rdkit")();
function mb(smi, {v3=false, arom=false, hs=false}={}) {
  let m = RDKit.get_mol(smi);
  if (hs) { const h = m.add_hs(); m.delete(); m = RDKit.get_mol(h, JSON.stringify({removeHs:false})); }
  m.set_new_coords();
  const s = v3 ? m.get_v3Kmolblock(JSON.stringify({kekulize: !arom})) : m.get_molblock(JSON.stringify({kekulize: !arom}));
  m.delete();
  return s;
}
const sets = {
  vendor: [
{"smi":"CC(=O)Oc1ccccc1C(=O)O","title":"Z56757932","prog":"ISIS","fields":[["Catalog ID","Z56757932"],["MW","180.16"],["ClogP","1.31"],["Available","in stock"]]},
{"smi":"Cn1c(=O)c2c(ncn2C)n(C)c1=O","title":"Z1203478122","prog":"ISIS","arom":true,"fields":[["Catalog ID","Z1203478122"],["MW","194.19"],["ClogP","-1.03"],["Available","in stock"]]},
{"smi":"O=C([O-])c1ccccc1.[Na+]","title":"Z2234567790","prog":"ISIS","atomBlockCharges":true,"fields":[["Catalog ID","Z2234567790"],["MW","144.10"],["ClogP","-2.10"],["Available","2-3 weeks"]]},
{"smi":"c1ccc2[nH]ccc2c1","title":"Z33218770","prog":"ISIS","arom":true,"hs":true,"fields":[["Catalog ID","Z33218770"],["MW","117.15"],["ClogP","2.14"],["Available","in stock"]]},
{"smi":"[2H]C([2H])([2H])Oc1ccccc1","title":"Z4410092831","prog":"ISIS","fields":[["Catalog ID","Z4410092831"],["MW","111.16"],["ClogP","2.11"],["Available","synthesis on demand"]]},
{"smi":"C[N+](C)(C)CCO.[Cl-]","title":"Z1839201","prog":"ISIS","fields":[["Catalog ID","Z1839201"],["MW","139.62"],["ClogP","-3.70"],["Available","in stock"]]},
{"smi":"CC(C)Cc1ccc(cc1)[C@H](C)C(=O)O","title":"Z104812256","prog":"ISIS","fields":[["Catalog ID","Z104812256"],["MW","206.28"],["ClogP","3.07"],["Available","in stock"]]},
{"smi":"O=[N+]([O-])c1ccc(O)cc1","title":"","prog":"ISIS","fields":[["> 8 <IDNUMBER>","8012-0345"],["MW","139.11"],["ClogP","1.91"],["Available","in stock"]]},
{"smi":"CC(=O)Oc1ccccc1C(=O)O","title":"Z56757932-B2","prog":"ISIS","fields":[["Catalog ID","Z56757932-B2"],["MW","180.16"],["ClogP","1.31"],["Available","in stock"]]}
],
  chembl: [
{"smi":"CC(=O)Oc1ccccc1C(=O)O","title":"CHEMBL25","v3":true,"fields":[["chembl_id","CHEMBL25"],["pref_name","ASPIRIN"]]},
{"smi":"NCC(=O)O","title":"CHEMBL773","v3":true,"fields":[["chembl_id","CHEMBL773"],["pref_name","GLYCINE"]]},
{"smi":"[NH3+]CC(=O)[O-]","title":"glycine zwitterion","v3":true,"cont":true,"fields":[["chembl_id","-"],["pref_name","GLYCINE (ZWITTERION)"]]},
{"smi":"[13CH3]C(=O)O","title":"acetic acid-2-13C","v3":true,"fields":[["chembl_id","-"],["pref_name","ACETIC ACID-2-13C"]]},
{"smi":"c1ccc2[nH]ccc2c1","title":"CHEMBL15844","v3":true,"arom":true,"fields":[["chembl_id","CHEMBL15844"],["pref_name","INDOLE"]]}
],
};
const recs = sets[process.argv[2]];
if (!recs) throw new Error("usage: gen.mjs vendor|chembl");
for (const r of recs) {
  let b = mb(r.smi, r);
  let lines = b.split("\n");
  lines[0] = r.title;
  if (r.prog === "ISIS") lines[1] = "  -ISIS-  01152514352D";
  if (r.atomBlockCharges) {
    // ISIS-style: charges in the atom block's ccc column, no M  CHG line.
    const chg = lines.find(l => l.startsWith("M  CHG"));
    const f = chg.slice(6).trim().split(/\s+/).map(Number);
    for (let k = 0; k < f[0]; k++) {
      const ai = f[1+2*k], v = f[2+2*k];
      const ln = 3 + ai;
      const s = lines[ln];
      lines[ln] = s.slice(0, 36) + String(4 - v).padStart(3) + s.slice(39);
    }
    lines = lines.filter(l => !l.startsWith("M  CHG"));
  }
  if (r.cont) {
    const i = lines.findIndex(l => / CHG=/.test(l));
    const s = lines[i]; const cut = s.indexOf(" CHG=");
    lines.splice(i, 1, s.slice(0, cut) + " -", "M  V30" + s.slice(cut));
  }
  let out = lines.join("\n").replace(/\n+$/, "\n");
  for (const [k, v] of r.fields || []) out += `${k.startsWith(">") ? k : "> <" + k + ">"}\n${v}\n\n`;
  process.stdout.write(out + "$$$$\n");
}
