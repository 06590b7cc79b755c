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

// atomicWeight returns the standard atomic weight of the element with the
// given capitalised symbol, or 0 if the symbol is unknown.
func atomicWeight(sym string) float64 {
	return elementsBySymbol[sym].Weight
}

// elementNames gives readable names for the elements that appear in
// valence error messages; other elements are shown by symbol.
var elementNames = map[string]string{
	"B": "boron", "C": "carbon", "N": "nitrogen", "O": "oxygen",
	"P": "phosphorus", "S": "sulfur", "F": "fluorine", "Cl": "chlorine",
	"Br": "bromine", "I": "iodine",
}

func elementName(sym string) string {
	if n, ok := elementNames[sym]; ok {
		return n
	}
	return sym
}

// organicValences lists the allowed ("normal") valences of the OpenSMILES
// organic-subset elements, smallest first.
var organicValences = map[string][]int{
	"B":  {3},
	"C":  {4},
	"N":  {3, 5},
	"O":  {2},
	"P":  {3, 5},
	"S":  {2, 4, 6},
	"F":  {1},
	"Cl": {1},
	"Br": {1},
	"I":  {1},
}

// aromaticBracketSymbols are the lower-case symbols accepted for aromatic
// atoms written inside brackets, mapped to their element symbol. Outside
// brackets only the single-letter ones (b c n o p s) are allowed.
var aromaticBracketSymbols = map[string]string{
	"b": "B", "c": "C", "n": "N", "o": "O", "p": "P", "s": "S",
	"se": "Se", "as": "As", "te": "Te", "si": "Si", "ge": "Ge", "sb": "Sb",
}
