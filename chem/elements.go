package chem

// element describes one chemical element.
type element struct {
	Symbol string
	Number int
	// Weight is the standard (conventional) atomic weight in g/mol. For
	// elements without a stable isotope it is the mass number of the
	// longest-lived or best-known isotope.
	Weight float64
}

// hydrogenWeight is the standard atomic weight of hydrogen, used for
// implicit and bracket hydrogen counts.
const hydrogenWeight = 1.008

// periodicTable lists the elements H..Og in atomic-number order.
var periodicTable = []element{
	{"H", 1, 1.008}, {"He", 2, 4.0026}, {"Li", 3, 6.94}, {"Be", 4, 9.0122},
	{"B", 5, 10.81}, {"C", 6, 12.011}, {"N", 7, 14.007}, {"O", 8, 15.999},
	{"F", 9, 18.998}, {"Ne", 10, 20.180}, {"Na", 11, 22.990}, {"Mg", 12, 24.305},
	{"Al", 13, 26.982}, {"Si", 14, 28.085}, {"P", 15, 30.974}, {"S", 16, 32.06},
	{"Cl", 17, 35.45}, {"Ar", 18, 39.948}, {"K", 19, 39.098}, {"Ca", 20, 40.078},
	{"Sc", 21, 44.956}, {"Ti", 22, 47.867}, {"V", 23, 50.942}, {"Cr", 24, 51.996},
	{"Mn", 25, 54.938}, {"Fe", 26, 55.845}, {"Co", 27, 58.933}, {"Ni", 28, 58.693},
	{"Cu", 29, 63.546}, {"Zn", 30, 65.38}, {"Ga", 31, 69.723}, {"Ge", 32, 72.630},
	{"As", 33, 74.922}, {"Se", 34, 78.971}, {"Br", 35, 79.904}, {"Kr", 36, 83.798},
	{"Rb", 37, 85.468}, {"Sr", 38, 87.62}, {"Y", 39, 88.906}, {"Zr", 40, 91.224},
	{"Nb", 41, 92.906}, {"Mo", 42, 95.95}, {"Tc", 43, 98}, {"Ru", 44, 101.07},
	{"Rh", 45, 102.91}, {"Pd", 46, 106.42}, {"Ag", 47, 107.87}, {"Cd", 48, 112.41},
	{"In", 49, 114.82}, {"Sn", 50, 118.71}, {"Sb", 51, 121.76}, {"Te", 52, 127.60},
	{"I", 53, 126.90}, {"Xe", 54, 131.29}, {"Cs", 55, 132.91}, {"Ba", 56, 137.33},
	{"La", 57, 138.91}, {"Ce", 58, 140.12}, {"Pr", 59, 140.91}, {"Nd", 60, 144.24},
	{"Pm", 61, 145}, {"Sm", 62, 150.36}, {"Eu", 63, 151.96}, {"Gd", 64, 157.25},
	{"Tb", 65, 158.93}, {"Dy", 66, 162.50}, {"Ho", 67, 164.93}, {"Er", 68, 167.26},
	{"Tm", 69, 168.93}, {"Yb", 70, 173.05}, {"Lu", 71, 174.97}, {"Hf", 72, 178.49},
	{"Ta", 73, 180.95}, {"W", 74, 183.84}, {"Re", 75, 186.21}, {"Os", 76, 190.23},
	{"Ir", 77, 192.22}, {"Pt", 78, 195.08}, {"Au", 79, 196.97}, {"Hg", 80, 200.59},
	{"Tl", 81, 204.38}, {"Pb", 82, 207.2}, {"Bi", 83, 208.98}, {"Po", 84, 209},
	{"At", 85, 210}, {"Rn", 86, 222}, {"Fr", 87, 223}, {"Ra", 88, 226},
	{"Ac", 89, 227}, {"Th", 90, 232.04}, {"Pa", 91, 231.04}, {"U", 92, 238.03},
	{"Np", 93, 237}, {"Pu", 94, 244}, {"Am", 95, 243}, {"Cm", 96, 247},
	{"Bk", 97, 247}, {"Cf", 98, 251}, {"Es", 99, 252}, {"Fm", 100, 257},
	{"Md", 101, 258}, {"No", 102, 259}, {"Lr", 103, 262}, {"Rf", 104, 267},
	{"Db", 105, 268}, {"Sg", 106, 269}, {"Bh", 107, 270}, {"Hs", 108, 269},
	{"Mt", 109, 278}, {"Ds", 110, 281}, {"Rg", 111, 282}, {"Cn", 112, 285},
	{"Nh", 113, 286}, {"Fl", 114, 289}, {"Mc", 115, 290}, {"Lv", 116, 293},
	{"Ts", 117, 294}, {"Og", 118, 294},
}

// elementsBySymbol indexes periodicTable by capitalised symbol.
var elementsBySymbol = func() map[string]element {
	m := make(map[string]element, len(periodicTable))
	for _, e := range periodicTable {
		m[e.Symbol] = e
	}
	return m
}()

// isElement reports whether sym is a capitalised element symbol (H..Og).
func isElement(sym string) bool {
	_, ok := elementsBySymbol[sym]
	return ok
}

// atomicNumber returns the atomic number of the element with the given
// capitalised symbol, or 0 if the symbol is unknown.
func atomicNumber(sym string) int {
	return elementsBySymbol[sym].Number
}

// atomicWeight returns the standard atomic weight of the element with the
// given capitalised symbol, or 0 if the symbol is unknown.
func atomicWeight(sym string) float64 {
	return elementsBySymbol[sym].Weight
}

// elementNames gives readable names for the elements that appear in
// valence error messages; other elements are shown by symbol.
var elementNames = map[string]string{
	"H": "hydrogen", "B": "boron", "C": "carbon", "N": "nitrogen", "O": "oxygen",
	"P": "phosphorus", "S": "sulfur", "F": "fluorine", "Cl": "chlorine",
	"Br": "bromine", "I": "iodine", "Si": "silicon", "Se": "selenium",
	"As": "arsenic", "Te": "tellurium", "Ge": "germanium", "Sb": "antimony",
	"Xe": "xenon",
}

func elementName(sym string) string {
	if n, ok := elementNames[sym]; ok {
		return n
	}
	return sym
}

// allowedValences gives, by atomic number, the allowed valences RDKit's
// periodic table lists (Code/GraphMol/atomic_data.cpp, last column),
// smallest first; the first is the default valence. A trailing -1 means
// "any valence above these" and a list of only -1 means "any valence" (no
// check): the transition metals, lanthanides and actinides. Atomic number
// 0 stands for RDKit's dummy atom, which a charge can reduce an atom to
// (see effectiveAtomicNumber). Elements not listed here have {-1}.
var allowedValences = func() [119][]int {
	var t [119][]int
	for n := range t {
		t[n] = []int{-1}
	}
	for n, v := range map[int][]int{
		1: {1}, 2: {0}, 3: {1, -1}, 4: {2}, 5: {3}, 6: {4}, 7: {3}, 8: {2}, 9: {1}, 10: {0},
		11: {1, -1}, 12: {2, -1}, 13: {3}, 14: {4}, 15: {3, 5}, 16: {2, 4, 6}, 17: {1}, 18: {0},
		19: {1, -1}, 20: {2, -1}, 31: {3}, 32: {4}, 33: {3, 5}, 34: {2, 4, 6}, 35: {1}, 36: {0},
		37: {1, -1}, 38: {2, -1}, 49: {3}, 50: {2, 4}, 51: {3, 5}, 52: {2, 4, 6}, 53: {1, 3, 5},
		54: {0, 2, 4, 6}, 55: {1}, 56: {2, -1}, 82: {2, 4}, 83: {3, 5}, 84: {2, 4, 6},
		85: {1, 3, 5}, 86: {0}, 87: {1}, 88: {2, -1},
	} {
		t[n] = v
	}
	return t
}()

// maxAtomicNumber is the largest atomic number in the periodic table.
const maxAtomicNumber = 118

// earlyElements are the elements RDKit treats as lying to the left of
// carbon (isEarlyAtom in Code/GraphMol/Atom.cpp): for them a positive charge
// lowers the number of bonds an aromatic atom wants instead of raising it.
var earlyElements = func() [119]bool {
	var t [119]bool
	for _, n := range []int{
		3, 4, 5, 11, 12, 13, 19, 20, 21, 22, 30, 31, 32, 37, 38, 39, 40, 41, 48, 49, 50, 51,
		55, 56, 57, 58, 59, 60, 61, 72, 73, 80, 81, 82, 83, 87, 88, 89, 90, 91, 92, 93,
		104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118,
	} {
		t[n] = true
	}
	return t
}()

// nonMetals are the elements RDKit does not count as metals (its "M" atom
// query, after Marvin Sketch): H, He, B, C, N, O, F, Ne, Si, P, S, Cl, Ar,
// As, Se, Br, Kr, Te, I, Xe, At, Rn.
var nonMetals = map[int]bool{
	1: true, 2: true, 5: true, 6: true, 7: true, 8: true, 9: true, 10: true, 14: true,
	15: true, 16: true, 17: true, 18: true, 33: true, 34: true, 35: true, 36: true,
	52: true, 53: true, 54: true, 85: true, 86: true,
}

// aromaticBracketSymbols are the lower-case symbols accepted for aromatic
// atoms written inside brackets, mapped to their element symbol. Outside
// brackets only the single-letter ones (b c n o p s) are allowed.
var aromaticBracketSymbols = map[string]string{
	"b": "B", "c": "C", "n": "N", "o": "O", "p": "P", "s": "S",
	"se": "Se", "as": "As", "te": "Te", "si": "Si", "ge": "Ge", "sb": "Sb",
}
