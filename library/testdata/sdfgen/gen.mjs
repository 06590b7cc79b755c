import { createRequire } from "node:module";
const require = createRequire("/tmp/rdkit/package.json");
const RDKit = await require("@rdkit/rdkit")();
function mb(smi, {v3=false, arom=false, hs=false}={}) {
  let m = RDKit.get_mol(smi);
  if (hs) { const h = m.add_hs(); m.delete(); m = RDKit.get_mol(h, JSON.stringify({removeHs:false})); }
  m.set_new_coords();
  const s = v3 ? m.get_v3Kmolblock(JSON.stringify({kekulize: !arom})) : m.get_molblock(JSON.stringify({kekulize: !arom}));
  m.delete();
  return s;
}
const recs = JSON.parse(process.argv[2]);
for (const r of recs) {
  let b = mb(r.smi, r);
  let lines = b.split("\n");
  lines[0] = r.title; lines[1] = r.prog || lines[1];
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
