// The one place the RDKit scripts load RDKit (WebAssembly, npm
// @rdkit/rdkit) from $RDKIT_DIR (default .tools/rdkit), installed by
//
//	npm install --prefix .tools/rdkit --ignore-scripts --no-audit --no-fund --save-exact @rdkit/rdkit@2026.9.1
//
// and the helpers they share. Every table they write names RDKit's version.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const dir = path.resolve(process.env.RDKIT_DIR || ".tools/rdkit");
const require = createRequire(path.join(dir, "package.json"));

// pkgVersion is the npm package's version; RDKit.version() is RDKit's.
export const pkgVersion = JSON.parse(readFileSync(path.join(dir, "node_modules", "@rdkit", "rdkit", "package.json"), "utf8")).version;
export const RDKit = await require("@rdkit/rdkit")();

// getMol parses smiles, or returns null where RDKit refuses it. The
// caller deletes the molecule.
export function getMol(smiles) {
  try {
    const m = RDKit.get_mol(smiles);
    if (m && m.is_valid()) return m;
    if (m) m.delete();
  } catch {}
  return null;
}

// canonical is RDKit's canonical SMILES of smiles, or null where RDKit
// refuses it.
export function canonical(smiles) {
  const m = getMol(smiles);
  if (!m) return null;
  const s = m.get_smiles();
  m.delete();
  return s;
}
